/**
 * The read script of src/shard/redis/expiry-read.ts on a real Redis, through a
 * shard: values and TTLs of a batch in one EVALSHA, absent keys and keys of
 * another type told apart, lives that never reach past Redis's expiry, and
 * a failed command answered as one outcome.
 */
import t from 'tap';
import { Outcome } from '../src/hop/vocabulary.js';
import { Shard } from '../src/shard/shard.js';
import { redisFetchWithLife } from '../src/shard/redis/expiry-read.js';
import { connectRedis, redisFetch } from '../src/shard/redis/redis.js';
import { batch, collector, linked } from './helpers/batches.js';
import { commandCalls } from './helpers/commandstats.js';
import { startRedis } from './helpers/processes.js';
import { sleep } from './helpers/time.js';

const redis = await startRedis(t);
const quiet = { info() {}, warn() {}, error() {} };
const connection = connectRedis({ url: redis.url, timeoutMs: 500, label: 'test', log: quiet });
t.teardown(() => connection.close());
await new Promise((resolve) => connection.redis.once('ready', resolve));
const fetchWithLife = redisFetchWithLife(connection.redis);

t.test('one script per batch: values, TTLs, absent and wrong-type keys', async (t) => {
  await redis.client.set('er:ttl', 'a', 'PX', 5000);
  await redis.client.set('er:none', 'b');
  await redis.client.hset('er:hash', 'f', 'v');
  // The first call on a Redis that does not know the script costs a NOSCRIPT and an EVAL (see below).
  await fetchWithLife([Buffer.from('er:warm')]);
  await redis.client.config('RESETSTAT');
  const got = await fetchWithLife(['er:ttl', 'er:none', 'er:absent', 'er:hash'].map((k) => Buffer.from(k)));
  if (typeof got === 'number') throw new Error(`outcome ${got}`);
  t.same(
    got.values.map((v) => (typeof v === 'number' ? v : v.toString())),
    ['a', 'b', Outcome.NotFound, Outcome.WrongType],
  );
  t.ok(got.lives[0]! > 4900 && got.lives[0]! <= 5000, `PTTL ${got.lives[0]} of 5000`);
  t.same(got.lives.slice(1), [-1, -1, -1], 'no TTL, absent, other type: no life');
  t.equal(await commandCalls(redis.client, 'evalsha', 'eval'), 1, 'one command for the batch');
});

t.test('a Redis that lost the script (SCRIPT FLUSH, a restart): EVAL once, then EVALSHA again', async (t) => {
  await redis.client.set('er:flushed', 'f', 'PX', 5000);
  await redis.client.script('FLUSH');
  await redis.client.config('RESETSTAT');
  for (let i = 0; i < 2; i++) {
    const got = await fetchWithLife([Buffer.from('er:flushed')]);
    if (typeof got === 'number') throw new Error(`outcome ${got}`);
    t.equal(got.values[0]!.toString(), 'f');
  }
  t.same(
    [await commandCalls(redis.client, 'eval'), await commandCalls(redis.client, 'evalsha')],
    [1, 2],
    'NOSCRIPT once, answered by EVAL; the next EVALSHA finds it',
  );
});

t.test('a shard with it: the entry expires with its key, in every path', async (t) => {
  const replies = collector();
  const shard = linked(new Shard({ capacity: 100, cacheTtlMs: 60000, fetch: redisFetch(connection.redis), fetchWithLife }), replies.send);
  await redis.client.set('er:s1', 'x', 'PX', 300);
  await redis.client.set('er:s2', 'y', 'PX', 300);
  shard.receive(batch([1, 'er:s1'], [2, 'er:s2']), 0);
  t.same(await replies.entries(2), [
    [1, 1, 'x'],
    [2, 1, 'y'],
  ]);
  shard.receive(batch([3, 'er:s1']), 0);
  t.same((await replies.entries(3))[2], [3, 1, 'x'], 'a hit within the life');
  t.ok(shard.cache.lifeMs(shard.cache.findKey('er:s1'), performance.now()) <= 300);
  await sleep(350);
  shard.receive(batch([4, 'er:s1']), 0);
  t.same((await replies.entries(4))[3], [4, Outcome.NotFound], 'expired: fetched again, and gone');
});

t.test('Redis gone: one outcome for the batch', async (t) => {
  const own = await startRedis(t);
  const c = connectRedis({ url: own.url, timeoutMs: 200, label: 'test', log: quiet });
  t.teardown(() => c.close());
  await new Promise((resolve) => c.redis.once('ready', resolve));
  const read = redisFetchWithLife(c.redis);
  await own.stop();
  t.equal(await read([Buffer.from('a'), Buffer.from('b')]), Outcome.Unavailable);
});
