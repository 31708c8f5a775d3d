/**
 * The typed entries through the built proxy and a real Redis: a second read
 * of a cached hash costs Redis nothing (INFO commandstats), and a write of
 * every type (HSET, LPUSH, SADD, ZADD, DEL) made in Redis directly shows
 * through the proxy within 50 ms although CACHE_TTL_MS is ten minutes, so
 * only the one invalidation of the key's one entry explains it.
 */
import t from 'tap';
import { commandCalls } from './helpers/commandstats.js';
import { scrape, total } from './helpers/metrics.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { command, decodeAll, RespPipe } from './helpers/resp.js';
import { sleep } from './helpers/time.js';

const redis = await startRedis(t);
const proxy = await startProxy(t, { REDIS_URL: redis.url, RESP_PORT: '0', SHARDS: '2', CACHE_TTL_MS: '600000' });
const pipe = await RespPipe.open(proxy.respPort!);
t.teardown(() => pipe.close());

/** One command through the proxy, decoded. */
async function ask(...args: string[]): Promise<unknown> {
  const [reply] = await pipe.send([command(...args)]);
  return decodeAll(reply!)[0];
}

/** Every read the proxy can send Redis. */
const reads = (): Promise<number> => commandCalls(redis.client, 'get', 'mget', 'evalsha', 'eval', 'hgetall', 'hget');

t.test('a second read of a cached hash, by any hash command, costs Redis nothing', async (t) => {
  const fields = Array.from({ length: 20 }, (_, i) => [`f${i}`, `value-${i}`]).flat();
  await redis.client.hset('cached:h', ...fields);
  const before = await reads();
  t.same(await ask('HGETALL', 'cached:h'), fields, 'HGETALL in Redis order');
  const fetched = await reads();
  t.ok(fetched > before, `the first read went to Redis (${fetched - before} commands)`);
  t.equal(await ask('HGET', 'cached:h', 'f7'), 'value-7');
  t.same(await ask('HMGET', 'cached:h', 'f1', 'nope'), ['value-1', null]);
  t.equal(await ask('HLEN', 'cached:h'), 20);
  t.equal(await ask('TYPE', 'cached:h'), 'hash');
  t.same(await ask('HGETALL', 'cached:h'), fields);
  t.equal(await reads(), fetched, 'five more reads of the hash: no command reached Redis');
  const m = await scrape(proxy.admin);
  t.equal(total(m, 'shardcache_typed_misses_total', { family: 'hash' }), 1, 'one hash command missed');
  t.equal(total(m, 'shardcache_typed_hits_total', { family: 'hash' }), 4, 'four hash commands hit (TYPE counts as keys)');
  t.equal(total(m, 'shardcache_typed_hits_total', { family: 'keys' }), 1);
});

/** Ms from the write's acknowledgement until `read` through the proxy answers `expected` (polled every 2 ms), or Infinity past 1 s. */
async function msUntil(write: () => Promise<unknown>, read: string[], expected: unknown): Promise<number> {
  await write();
  const acked = performance.now();
  while (performance.now() - acked < 1000) {
    if (JSON.stringify(await ask(...read)) === JSON.stringify(expected)) return performance.now() - acked;
    await sleep(2);
  }
  return Number.POSITIVE_INFINITY;
}

t.test('HSET, LPUSH, SADD, ZADD and DEL in Redis are each seen through the proxy within 50 ms', async (t) => {
  const c = redis.client;
  await c.hset('co:h', 'a', '1');
  await c.rpush('co:l', 'x');
  await c.sadd('co:s', 'm');
  await c.zadd('co:z', 1, 'm');
  const cases: [string, () => Promise<unknown>, string[], unknown, unknown][] = [
    ['HSET', () => c.hset('co:h', 'a', '2'), ['HGET', 'co:h', 'a'], '1', '2'],
    ['LPUSH', () => c.lpush('co:l', 'y'), ['LRANGE', 'co:l', '0', '-1'], ['x'], ['y', 'x']],
    ['SADD', () => c.sadd('co:s', 'n'), ['SCARD', 'co:s'], 1, 2],
    ['ZADD', () => c.zadd('co:z', 5, 'm'), ['ZSCORE', 'co:z', 'm'], '1', '5'],
    ['DEL', () => c.del('co:h'), ['HGET', 'co:h', 'a'], '2', null],
  ];
  for (const [name, write, read, before, after] of cases) {
    t.same(await ask(...read), before, `${name}: the old value is cached`);
    t.same(await ask(...read), before);
    const ms = await msUntil(write, read, after);
    t.ok(ms < 50, `${name}: seen through the proxy ${ms.toFixed(1)} ms after Redis acknowledged it`);
  }
});

t.test('a hash over MAX_VALUE_BYTES is answered from each read and not cached', async (t) => {
  const small = await startProxy(t, { REDIS_URL: redis.url, RESP_PORT: '0', SHARDS: '1', MAX_VALUE_BYTES: '1k' });
  const big = await RespPipe.open(small.respPort!);
  t.teardown(() => big.close());
  const fields = Array.from({ length: 100 }, (_, i) => [`field-${i}`, 'x'.repeat(20)]).flat();
  await redis.client.hset('big:h', ...fields);
  const ask1 = async (...args: string[]): Promise<unknown> => decodeAll((await big.send([command(...args)]))[0]!)[0];
  for (let i = 0; i < 3; i++) {
    const before = await reads();
    t.same(await ask1('HGETALL', 'big:h'), fields, `read ${i + 1}: the whole hash`);
    t.equal(await ask1('HGET', 'big:h', 'field-42'), 'x'.repeat(20));
    t.ok((await reads()) - before >= 2, 'both reads went to Redis: nothing was cached');
  }
  t.match(await ask1('INFO'), /redis_version/, 'the connection is fine');
});
