/**
 * EVICTION against the built proxy: with tinylfu, tracking still removes
 * changed keys, and a run of one-off keys does not flush the frequently
 * read ones, where the same run through an LRU proxy does (the control that
 * lets the check fail).
 */
import t from 'tap';
import { agent, get } from './helpers/http.js';
import { scrape, total } from './helpers/metrics.js';
import { startProxy, startRedis } from './helpers/processes.js';

const redis = await startRedis(t);
const http = agent(8);
t.teardown(() => http.close());

/** Keys Redis has looked up so far (GET or MGET). */
async function lookups(): Promise<number> {
  const stats = await redis.client.info('stats');
  const count = (name: string): number => Number(new RegExp(`${name}:(\\d+)`).exec(stats)?.[1] ?? 0);
  return count('keyspace_hits') + count('keyspace_misses');
}

t.test('tinylfu with tracking: a changed key is fetched again, and the cache serves the rest', async (t) => {
  const proxy = await startProxy(t, {
    REDIS_URL: redis.url,
    SHARDS: '1',
    CACHE_CAPACITY: '100',
    EVICTION: 'tinylfu',
    CACHE_TTL_MS: '600000',
  });
  await redis.client.mset('ev:a', 'one', 'ev:b', 'B');
  t.equal((await get(proxy.url, '/ev:a', { dispatcher: http })).body.toString(), 'one');
  t.equal((await get(proxy.url, '/ev:b', { dispatcher: http })).body.toString(), 'B');
  const before = await lookups();
  t.equal((await get(proxy.url, '/ev:b', { dispatcher: http })).body.toString(), 'B');
  t.equal(await lookups(), before, 'a hit');
  await redis.client.set('ev:a', 'two');
  const deadline = Date.now() + 2000;
  let seen = '';
  while (Date.now() < deadline && seen !== 'two') seen = (await get(proxy.url, '/ev:a', { dispatcher: http })).body.toString();
  t.equal(seen, 'two', 'the invalidation reached the tinylfu store');
  t.equal(total(await scrape(proxy.admin), 'shardcache_invalidations_total', { kind: 'key' }), 1);
});

t.test('one-off keys do not flush the frequently read ones with tinylfu; with lru they do', async (t) => {
  const hot = Array.from({ length: 100 }, (_, i) => `hot:${i}`);
  const cold = Array.from({ length: 600 }, (_, i) => `cold:${i}`);
  await redis.client.mset(...[...hot, ...cold].flatMap((k) => [k, k]));
  const misses: Record<string, number> = {};
  for (const eviction of ['tinylfu', 'lru']) {
    const proxy = await startProxy(t, {
      REDIS_URL: redis.url,
      SHARDS: '1',
      CACHE_CAPACITY: '200',
      EVICTION: eviction,
      CACHE_TTL_MS: '600000',
    });
    for (let round = 0; round < 3; round++) for (const k of hot) await get(proxy.url, `/${k}`, { dispatcher: http });
    for (const k of cold) await get(proxy.url, `/${k}`, { dispatcher: http });
    // Counted by the proxy: Redis's own lookups count two per key since the read script reads each key's TTL too.
    const before = total(await scrape(proxy.admin), 'shardcache_cache_misses_total');
    for (const k of hot) t.equal((await get(proxy.url, `/${k}`, { dispatcher: http })).body.toString(), k);
    misses[eviction] = total(await scrape(proxy.admin), 'shardcache_cache_misses_total') - before;
    await proxy.stop();
  }
  t.equal(misses.lru, 100, 'lru: the 600 one-off keys pushed out all 100 frequent ones');
  t.ok(misses.tinylfu! <= 5, `tinylfu: ${misses.tinylfu} of the 100 frequent keys had to be fetched again`);
});
