/**
 * CACHE_MAX_BYTES against the built proxy: the shards keep no more value
 * bytes than the budget, evicting the least recently used, and a value
 * larger than a shard's share is served whole but not cached.
 */
import t from 'tap';
import { Arena } from '../src/cache/arena.js';
import { ENTRY_BYTES } from '../src/cache/store.js';
import { agent, get } from './helpers/http.js';
import { scrape, total } from './helpers/metrics.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { getCalls } from './helpers/commandstats.js';

const redis = await startRedis(t);
const http = agent(8);
t.teardown(() => http.close());

/** Bytes a 9-byte key with a 100-byte value takes: a 120-byte block and its record. */
const ENTRY = Arena.granules(9 + 100) * 8 + ENTRY_BYTES;
/** A shard's index table: 16 slots (64 bytes) for up to 8 entries, then doubled to keep it at most half full. */
const INDEX = 64;

t.test('CACHE_MAX_BYTES bounds every byte the cache holds; the least recently used go first', async (t) => {
  // Two shards with 2 KiB each: as many entries as fit beside a 32-slot index (128 bytes) in one (twelve of 152 bytes); forty would take three times that.
  const perShard = Math.floor((2048 - 2 * INDEX) / ENTRY);
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', CACHE_MAX_BYTES: '4k', CACHE_TTL_MS: '600000' });
  t.match(proxy.logs(), /100000 keys or 4096 bytes/, 'the start-up line names the budget');
  const keys = Array.from({ length: 40 }, (_, i) => `budget:${String(i).padStart(2, '0')}`);
  await redis.client.mset(...keys.flatMap((k, i) => [k, String(i % 10).repeat(100)]));
  for (const k of keys) t.equal((await get(proxy.url, `/${k}`, { dispatcher: http })).status, 200);

  const m = await scrape(proxy.admin);
  const bytes = total(m, 'shardcache_cache_bytes');
  const entries = total(m, 'shardcache_cache_entries');
  t.ok(bytes <= 4096, `bytes held stay within the budget (${bytes})`);
  t.equal(entries, 2 * perShard, `${perShard} entries per shard: the budget is used, not left empty`);
  t.equal(bytes, entries * ENTRY + 2 * 2 * INDEX, 'and counted to the byte');
  t.equal(total(m, 'shardcache_cache_evicted_total'), 40 - entries, 'every value that did not fit was evicted, none lost otherwise');

  // Each shard keeps its most recently read keys: the last eight read are
  // among them (each shard holds twelve), so reading them again asks Redis nothing.
  const before = await getCalls(redis.client);
  for (const k of keys.slice(-8)) t.equal((await get(proxy.url, `/${k}`, { dispatcher: http })).status, 200);
  t.equal(await getCalls(redis.client), before, 'the most recently read keys are still cached');
  // The first keys read were evicted long ago: they go to Redis again.
  for (const k of keys.slice(0, 4)) await get(proxy.url, `/${k}`, { dispatcher: http });
  t.equal(await getCalls(redis.client), before + 4, 'the least recently used keys were the ones evicted');
});

t.test("a value whose entry outweighs a shard's share of CACHE_MAX_BYTES is served whole, not cached", async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', CACHE_MAX_BYTES: '1000', CACHE_TTL_MS: '600000' });
  await redis.client.set('budget:big', 'b'.repeat(1001));
  // 950 bytes pass the value check but not with the key, the metadata and the index: 968 + 44 + 64 > 1000.
  await redis.client.set('budget:almost', 'a'.repeat(950));
  // 800 bytes: an 824-byte block, 44 of metadata, 64 of index: 932 fit.
  await redis.client.set('budget:fits', 'f'.repeat(800));
  const before = await getCalls(redis.client);
  for (let i = 0; i < 2; i++) {
    for (const [key, length] of [
      ['big', 1001],
      ['almost', 950],
    ] as const) {
      const got = await get(proxy.url, `/budget:${key}`, { dispatcher: http });
      t.equal(got.body.length, length, 'served whole');
      t.equal(got.headers.etag, undefined, 'without an ETag: it is not cached');
    }
  }
  for (let i = 0; i < 2; i++)
    t.ok((await get(proxy.url, '/budget:fits', { dispatcher: http })).headers.etag, 'a value whose entry fits is cached');
  t.equal(await getCalls(redis.client), before + 5, 'the two large values went to Redis both times, the one that fits once');
  const m = await scrape(proxy.admin);
  t.equal(total(m, 'shardcache_too_large_total'), 4, 'counted as too large');
  t.equal(total(m, 'shardcache_cache_bytes'), Arena.granules('budget:fits'.length + 800) * 8 + ENTRY_BYTES + INDEX);
});
