/**
 * The SHARDCACHE_TEST_DELAY_GET hook against a real redis-server: replies
 * of matching keys are held, by GET and by MGET, and nothing else is.
 */
import t from 'tap';
import { connectRedis, redisFetch, redisFetchMany } from '../src/shard/redis/redis.js';
import { delayedForTests } from '../src/shard/test-delay.js';
import { startRedis } from './helpers/processes.js';

const redis = await startRedis(t);
const connection = connectRedis({ url: redis.url, timeoutMs: 1000, label: 'test', log: { info() {}, warn() {}, error() {} } });
t.teardown(() => connection.close());
await new Promise((resolve) => connection.redis.once('ready', resolve));
const fetchers = { fetch: redisFetch(connection.redis), fetchMany: redisFetchMany(connection.redis) };
await redis.client.mset('held:a', 'A', 'free:b', 'B');

/** Milliseconds `reply` took, and what it resolved with. */
async function timed<T>(reply: Promise<T>): Promise<[number, T]> {
  const started = performance.now();
  const result = await reply;
  return [performance.now() - started, result];
}
const text = (v: readonly (Buffer | null)[] | number): (string | null)[] | number =>
  typeof v === 'number' ? v : v.map((b) => b?.toString() ?? null);

t.test('unset or empty: the fetchers themselves', async (t) => {
  t.equal(delayedForTests(fetchers, undefined), fetchers);
  t.equal(delayedForTests(fetchers, ''), fetchers);
});

t.test('a malformed spec is refused', async (t) => {
  t.throws(() => delayedForTests(fetchers, 'no-colon'), /must be <key prefix>:<ms>/);
  t.throws(() => delayedForTests(fetchers, 'held::soon'), /must be <key prefix>:<ms>/);
});

t.test('GET and MGET replies are held when a key matches the prefix, and only then', async (t) => {
  const delayed = delayedForTests(fetchers, 'held::150');
  const [getHeld, a] = await timed(delayed.fetch(Buffer.from('held:a')));
  t.ok(getHeld >= 140, `GET held:a held (${getHeld.toFixed(0)} ms)`);
  t.equal(a.toString(), 'A');
  const [mgetHeld, ab] = await timed(delayed.fetchMany!([Buffer.from('free:b'), Buffer.from('held:a')]));
  t.ok(mgetHeld >= 140, `an MGET with one matching key held whole (${mgetHeld.toFixed(0)} ms)`);
  t.same(text(ab), ['B', 'A']);
  const [getFree] = await timed(delayed.fetch(Buffer.from('free:b')));
  const [mgetFree, b] = await timed(delayed.fetchMany!([Buffer.from('free:b'), Buffer.from('h')]));
  t.ok(getFree < 100 && mgetFree < 100, `no matching key: not held (GET ${getFree.toFixed(0)} ms, MGET ${mgetFree.toFixed(0)} ms)`);
  t.same(text(b), ['B', null], 'a key shorter than the prefix does not match');
});
