/**
 * How a shard's misses reach Redis: a request batch's new flights as one
 * MGET, read off Redis's own command statistics, with each key answered as
 * a GET would have answered it.
 */
import t from 'tap';
import { Outcome } from '../src/hop/vocabulary.js';
import { Stat } from '../src/metrics/shard-stats.js';
import { Shard, type ShardOptions } from '../src/shard/shard.js';
import { connectRedis, redisFetch, redisFetchMany, type RedisConnection } from '../src/shard/redis/redis.js';
import { batch, collector, linked } from './helpers/batches.js';
import { startRedis } from './helpers/processes.js';
import { commandCalls } from './helpers/commandstats.js';

const redis = await startRedis(t);
const quiet = { info() {}, warn() {}, error() {} };

async function open(url: string, timeoutMs = 1000): Promise<RedisConnection> {
  const connection = connectRedis({ url, timeoutMs, label: 'test', log: quiet });
  t.teardown(() => connection.close());
  await new Promise((resolve) => connection.redis.once('ready', resolve));
  return connection;
}
const connection = await open(redis.url);

/** A shard reading through `via` (MGET and GET), its replies collected. */
function makeShard(via: RedisConnection = connection, options: Partial<ShardOptions> = {}) {
  const replies = collector();
  const shard = linked(
    new Shard({ capacity: 100, cacheTtlMs: 60000, fetch: redisFetch(via.redis), fetchMany: redisFetchMany(via.redis), ...options }),
    replies.send,
  );
  return { shard, ...replies };
}

/** Calls of GET and MGET since the last `CONFIG RESETSTAT`. */
async function commands(): Promise<{ get: number; mget: number }> {
  return { get: await commandCalls(redis.client, 'get'), mget: await commandCalls(redis.client, 'mget') };
}

t.beforeEach(async () => {
  await redis.client.config('RESETSTAT');
});

t.test('a batch of 40 misses is one MGET; every key gets its own value', async (t) => {
  const keys = Array.from({ length: 40 }, (_, i) => `many:${i}`);
  await redis.client.mset(...keys.flatMap((k, i) => [k, `v${i}`]));
  await redis.client.config('RESETSTAT');
  const { shard, entries } = makeShard();
  shard.receive(batch(...keys.map((k, i): [number, string] => [i, k]), [40, 'many:7']), 0);
  const got = await entries(41);
  t.same(got, [...keys.map((_, i) => [i, 2 + (i >= 10 ? 1 : 0), `v${i}`]), [40, 2, 'v7']]);
  t.same(await commands(), { get: 0, mget: 1 }, 'one MGET, no GET');
  t.same([...shard.coalesced], [1, 0], 'the repeated key joined its flight');
  t.equal(shard.cache.size, 40, 'every value cached');
  t.equal(shard.stats[Stat.LatencyCount], 1, 'one command, one latency sample');
});

t.test('a batch with one miss sends a GET', async (t) => {
  await redis.client.set('one:a', 'A');
  const { shard, entries } = makeShard();
  shard.receive(batch([1, 'one:a'], [2, 'one:a']), 0);
  t.same(await entries(2), [
    [1, 1, 'A'],
    [2, 1, 'A'],
  ]);
  t.same(await commands(), { get: 1, mget: 0 });
});

t.test('absent and wrong-type keys inside an MGET: each nil confirmed by a GET, answered NotFound / WrongType', async (t) => {
  await redis.client.set('nil:a', 'A');
  await redis.client.del('nil:absent', 'nil:list');
  await redis.client.rpush('nil:list', 'x');
  await redis.client.config('RESETSTAT');
  const { shard, entries } = makeShard(connection, { negativeTtlMs: 60000 });
  shard.receive(batch([1, 'nil:a'], [2, 'nil:absent'], [3, 'nil:list'], [4, 'nil:absent']), 0);
  t.same(await entries(4), [
    [1, 1, 'A'],
    [2, Outcome.NotFound],
    [3, Outcome.WrongType],
    [4, Outcome.NotFound],
  ]);
  t.same(await commands(), { get: 2, mget: 1 }, 'one MGET, then one GET per nil');
  t.equal(shard.stats[Stat.LatencyCount], 3, 'a latency sample per command');
  t.same(shard.cache.keys().sort(), ['nil:a', 'nil:absent'], 'the value and the absence cached (NEGATIVE_TTL_MS), the wrong type not');
});

t.test('MAX_KEYS_PER_FETCH: 9 misses with a cap of 4 are two MGETs and one GET', async (t) => {
  const keys = Array.from({ length: 9 }, (_, i) => `cap:${i}`);
  await redis.client.mset(...keys.flatMap((k) => [k, k]));
  await redis.client.config('RESETSTAT');
  const { shard, entries } = makeShard(connection, { maxKeysPerFetch: 4 });
  shard.receive(batch(...keys.map((k, i): [number, string] => [i, k])), 0);
  t.same(
    await entries(9),
    keys.map((k, i) => [i, k.length, k]),
  );
  t.same(await commands(), { get: 1, mget: 2 });
});

t.test('without fetchMany, each miss is a GET of its own', async (t) => {
  await redis.client.mset('solo:a', 'A', 'solo:b', 'B');
  await redis.client.config('RESETSTAT');
  const replies = collector();
  const shard = linked(new Shard({ capacity: 10, cacheTtlMs: 60000, fetch: redisFetch(connection.redis) }), replies.send);
  shard.receive(batch([1, 'solo:a'], [2, 'solo:b']), 0);
  t.same(await replies.entries(2), [
    [1, 1, 'A'],
    [2, 1, 'B'],
  ]);
  t.same(await commands(), { get: 2, mget: 0 });
});

t.test('an invalidation during the MGET keeps that key out of the cache, and only that one', async (t) => {
  await redis.client.mset('poison:a', 'A', 'poison:b', 'B', 'poison:c', 'C');
  const { shard, entries } = makeShard();
  shard.receive(batch([1, 'poison:a'], [2, 'poison:b'], [3, 'poison:c']), 0);
  // The reply cannot have arrived yet: this runs before any I/O does.
  shard.invalidate('poison:b');
  t.same(
    await entries(3),
    [
      [1, 1, 'A'],
      [2, 1, 'B'],
      [3, 1, 'C'],
    ],
    'every waiter answered',
  );
  t.same(shard.cache.keys().sort(), ['poison:a', 'poison:c']);
  t.equal(shard.flights.size, 0, 'no flight left in the air');
});

t.test('a nil being confirmed can still be poisoned', async (t) => {
  await redis.client.set('pc:a', 'A');
  await redis.client.del('pc:b');
  const { shard, entries } = makeShard(connection, { negativeTtlMs: 60000 });
  shard.receive(batch([1, 'pc:a'], [2, 'pc:b']), 0);
  // Once pc:a has landed, pc:b's confirming GET is in the air.
  while (shard.cache.size === 0) await new Promise((resolve) => setImmediate(resolve));
  t.equal(shard.flights.size, 1, 'pc:b is still in flight');
  shard.invalidate('pc:b');
  t.same(await entries(2), [
    [1, 1, 'A'],
    [2, Outcome.NotFound],
  ]);
  t.same(shard.cache.keys(), ['pc:a'], 'the absence was not cached');
});

t.test('coalescing joins keys already in flight; only the new key is fetched', async (t) => {
  await redis.client.mset('co:a', 'A', 'co:b', 'B', 'co:c', 'C', 'co:d', 'D');
  await redis.client.config('RESETSTAT');
  const { shard, entries } = makeShard();
  shard.receive(batch([1, 'co:a'], [2, 'co:b'], [3, 'co:c']), 0);
  shard.receive(batch([4, 'co:b'], [5, 'co:c'], [6, 'co:d']), 0);
  t.same(await entries(6), [
    [1, 1, 'A'],
    [2, 1, 'B'],
    [3, 1, 'C'],
    [4, 1, 'B'],
    [5, 1, 'C'],
    [6, 1, 'D'],
  ]);
  t.same([...shard.coalesced], [2, 0]);
  t.same(await commands(), { get: 1, mget: 1 }, 'the first batch one MGET, the second a GET for co:d alone');
});

t.test('an error reply to the MGET answers every key of it RedisError; GET still works', async (t) => {
  await redis.client.call('ACL', 'SETUSER', 'nomget', 'on', '>pw', '~*', '&*', '+@all', '-mget');
  await redis.client.mset('err:a', 'A', 'err:b', 'B', 'err:c', 'C');
  const limited = await open(redis.url.replace('redis://', 'redis://nomget:pw@'));
  const { shard, entries } = makeShard(limited);
  shard.receive(batch([1, 'err:a'], [2, 'err:b'], [3, 'err:c'], [4, 'err:a']), 0);
  t.same(await entries(4), [
    [1, Outcome.RedisError],
    [2, Outcome.RedisError],
    [3, Outcome.RedisError],
    [4, Outcome.RedisError],
  ]);
  t.equal(shard.cache.size, 0);
  shard.receive(batch([5, 'err:b']), 0);
  t.same((await entries(5))[4], [5, 1, 'B'], 'a single miss (GET) is allowed');
});

t.test('an MGET slower than REDIS_TIMEOUT_MS answers every key Unavailable, or stale with STALE_IF_ERROR_MS', async (t) => {
  await redis.client.mset('slow:a', 'A', 'slow:b', 'B', 'slow:c', 'C');
  const fast = await open(redis.url, 200);
  let now = 0;
  const { shard, entries } = makeShard(fast, { cacheTtlMs: 100, staleIfErrorMs: 10000, now: () => now });
  shard.receive(batch([1, 'slow:a'], [2, 'slow:b']), 0);
  await entries(2);
  now = 1000;
  const { done } = await redis.hold(t, 0.6);
  const started = Date.now();
  shard.receive(batch([3, 'slow:a'], [4, 'slow:b'], [5, 'slow:c']), 0);
  const got = await entries(5);
  t.ok(Date.now() - started < 550, `answered on the timeout, not when Redis woke (${Date.now() - started} ms)`);
  t.same(
    got.slice(2),
    [
      [3, 1, 'A'],
      [4, 1, 'B'],
      [5, Outcome.Unavailable],
    ],
    'the cached keys served stale, the other Unavailable',
  );
  t.equal(shard.staleIfErrorServed, 2);
  await done;
});
