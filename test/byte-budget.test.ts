/**
 * CACHE_MAX_BYTES against the built proxy: the shards keep no more value
 * bytes than the budget, evicting the least recently used, and a value
 * larger than a shard's share is served whole but not cached.
 */
import t from 'tap';
import { agent, get } from './helpers/http.js';
import { scrape, total } from './helpers/metrics.js';
import { startProxy, startRedis } from './helpers/processes.js';

const redis = await startRedis(t);
const http = agent(8);
t.teardown(() => http.close());

/** GET calls Redis has served so far (`INFO commandstats`; MGET counted by its keys is not needed: reads here are one at a time). */
async function redisReads(): Promise<number> {
  const info = await redis.client.info('commandstats');
  const calls = (name: string): number => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
  return calls('get') + calls('mget');
}

t.test('CACHE_MAX_BYTES bounds the cached value bytes; the least recently used go first', async (t) => {
  // Two shards with 1 KiB each; forty 100-byte values are 4,000 bytes, so about half can stay.
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', CACHE_MAX_BYTES: '2k', CACHE_TTL_MS: '600000' });
  t.match(proxy.logs(), /100000 keys or 2048 bytes/, 'the start-up line names the budget');
  const keys = Array.from({ length: 40 }, (_, i) => `budget:${i}`);
  await redis.client.mset(...keys.flatMap((k, i) => [k, String(i % 10).repeat(100)]));
  for (const k of keys) t.equal((await get(proxy.url, `/${k}`, { dispatcher: http })).status, 200);

  const m = await scrape(proxy.admin);
  const bytes = total(m, 'shardcache_cache_bytes');
  t.ok(bytes <= 2048, `value bytes held stay within the budget (${bytes})`);
  t.ok(bytes >= 2 * (1024 - 100), `and the budget is used, not left empty (${bytes})`);
  t.equal(total(m, 'shardcache_cache_entries') * 100, bytes, 'every entry held is a 100-byte value');
  t.equal(total(m, 'shardcache_cache_evicted_total'), 40 - bytes / 100, 'every value that did not fit was evicted, none lost otherwise');

  // Each shard keeps its most recently read keys: the last eight read are
  // among them (each shard holds ten), so reading them again asks Redis nothing.
  const before = await redisReads();
  for (const k of keys.slice(-8)) t.equal((await get(proxy.url, `/${k}`, { dispatcher: http })).status, 200);
  t.equal(await redisReads(), before, 'the most recently read keys are still cached');
  // The first keys read were evicted long ago: they go to Redis again.
  for (const k of keys.slice(0, 4)) await get(proxy.url, `/${k}`, { dispatcher: http });
  t.equal(await redisReads(), before + 4, 'the least recently used keys were the ones evicted');
});

t.test('a value larger than a shard\'s share of CACHE_MAX_BYTES is served whole, not cached', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', CACHE_MAX_BYTES: '1000', CACHE_TTL_MS: '600000' });
  await redis.client.set('budget:big', 'b'.repeat(1001));
  await redis.client.set('budget:fits', 'f'.repeat(1000));
  const before = await redisReads();
  for (let i = 0; i < 2; i++) {
    const big = await get(proxy.url, '/budget:big', { dispatcher: http });
    t.equal(big.body.length, 1001, 'served whole');
    t.equal(big.headers.etag, undefined, 'without an ETag: it is not cached');
  }
  for (let i = 0; i < 2; i++) t.ok((await get(proxy.url, '/budget:fits', { dispatcher: http })).headers.etag, 'a value of exactly the budget is cached');
  t.equal(await redisReads(), before + 3, 'the large value went to Redis both times, the one that fits once');
  t.equal(total(await scrape(proxy.admin), 'shardcache_too_large_total'), 2, 'counted as too large');
});
