/**
 * MAX_INFLIGHT as the shard keeps it (`MissLimit`), in-process against a
 * real redis-server held in DEBUG SLEEP: misses past the bound are refused
 * at once, hits never are, and the count falls back as flights land.
 */
import t from 'tap';
import { Outcome } from '../src/hop/vocabulary.js';
import { Stat } from '../src/metrics/shard-stats.js';
import { MissLimit } from '../src/shard/miss-limit.js';
import { REFRESH } from '../src/shard/refresh.js';
import { connectRedis, redisFetch, redisFetchMany } from '../src/shard/redis/redis.js';
import { Shard } from '../src/shard/shard.js';
import { batch, collector, linked } from './helpers/batches.js';
import { startRedis } from './helpers/processes.js';

const redis = await startRedis(t);
const connection = connectRedis({ url: redis.url, timeoutMs: 5000, label: 'test', log: { info() {}, warn() {}, error() {} } });
t.teardown(() => connection.close());
await new Promise((resolve) => connection.redis.once('ready', resolve));

t.test('past MAX_INFLIGHT waiting on Redis, misses are refused at once; hits and the admitted misses are answered', async (t) => {
  await redis.client.mset('ml:hit', 'H', 'ml:a', 'A', 'ml:b', 'B', 'ml:c', 'C', 'ml:d', 'D');
  const { batches, send, entries } = collector();
  const shard = linked(
    new Shard({
      capacity: 10,
      cacheTtlMs: 60000,
      maxInflight: 3,
      fetch: redisFetch(connection.redis),
      fetchMany: redisFetchMany(connection.redis),
    }),
    send,
  );
  shard.receive(batch([0, 'ml:hit']), 0);
  await entries(1);
  batches.length = 0;
  const { done } = await redis.hold(t, 0.4);
  // a: a fetch and a waiter on it; b: a fetch; c, d: refused; the hit is answered.
  shard.receive(batch([1, 'ml:a'], [2, 'ml:a'], [3, 'ml:b'], [4, 'ml:c'], [5, 'ml:hit'], [6, 'ml:d']), 0);
  t.same(
    batches,
    [
      [
        [4, Outcome.Overloaded],
        [5, 1, 'H'],
        [6, Outcome.Overloaded],
      ],
    ],
    'the refusals and the hit leave before receive returns',
  );
  t.same([shard.limit.waiting, shard.stats[Stat.Waiting], shard.stats[Stat.ShedMisses]], [3, 3, 2], 'three waiting, two shed, published');
  shard.receive(batch([7, 'ml:hit'], [8, 'ml:a']), 0);
  t.same(
    batches[1],
    [
      [7, 1, 'H'],
      [8, Outcome.Overloaded],
    ],
    'a hit is answered with the bound reached; joining a flight counts as waiting too',
  );
  await done;
  const got = await entries(8);
  t.same(
    got.filter((e) => e[0] <= 3),
    [
      [1, 1, 'A'],
      [2, 1, 'A'],
      [3, 1, 'B'],
    ],
    'the admitted misses are answered when Redis wakes',
  );
  t.same(
    [shard.limit.waiting, shard.stats[Stat.Waiting], shard.stats[Stat.ShedMisses]],
    [0, 0, 3],
    'nothing waiting once the flights landed',
  );
  t.same([...shard.misses], [4, 0], 'refused misses are not counted as misses (fetched or joined), only as shed');
  batches.length = 0;
  shard.receive(batch([9, 'ml:c']), 0);
  t.same(await entries(1), [[9, 1, 'C']], 'a miss is admitted again below the bound');
});

t.test("a background refresh is nobody's request: landing its flight releases only the clients that joined it", (t) => {
  const limit = new MissLimit(2);
  t.equal(limit.admit(), true);
  t.equal(limit.admit(), true);
  t.equal(limit.admit(), false, 'the third is refused');
  t.same([limit.waiting, limit.shed], [2, 0], 'refusing is not shedding yet: the shard may answer stale');
  limit.landed([REFRESH, 7]);
  t.equal(limit.waiting, 1, 'a refresh flight with one client joined: one released');
  limit.landed([REFRESH]);
  t.equal(limit.waiting, 1, 'a refresh alone: none');
  limit.landed([]);
  limit.landed([3]);
  t.equal(limit.waiting, 0);
  t.end();
});

t.test('with STALE_IF_ERROR_MS, a miss refused past MAX_INFLIGHT is answered from its expired entry within the grace', async (t) => {
  await redis.client.mset('ml:s1', 'one', 'ml:s2', 'two', 'ml:s3', 'three');
  let clock = 0;
  const { batches, send, entries } = collector();
  const shard = linked(
    new Shard({
      capacity: 10,
      cacheTtlMs: 100,
      staleIfErrorMs: 1000,
      maxInflight: 1,
      now: () => clock,
      fetch: redisFetch(connection.redis),
      fetchMany: redisFetchMany(connection.redis),
    }),
    send,
  );
  shard.receive(batch([0, 'ml:s1']), 0);
  await entries(1);
  shard.receive(batch([1, 'ml:s2']), 0);
  await entries(2);
  await redis.client.set('ml:s2', 'newer');
  clock = 500; // both expired, within the grace
  batches.length = 0;
  const { done } = await redis.hold(t, 0.3);
  shard.receive(batch([2, 'ml:s1'], [3, 'ml:s2'], [4, 'ml:s3']), 0);
  t.same(
    batches,
    [
      [
        [3, 3, 'two'],
        [4, Outcome.Overloaded],
      ],
    ],
    'the first miss waits; the second is answered stale; the third, never cached, is refused',
  );
  t.same([shard.staleIfErrorServed, shard.stats[Stat.ShedMisses]], [1, 1], 'counted as served stale, not as shed');
  await done;
  t.same(
    (await entries(3)).find((e) => e[0] === 2),
    [2, 3, 'one'],
    'the admitted miss is answered by Redis',
  );
});
