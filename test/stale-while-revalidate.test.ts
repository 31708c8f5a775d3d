/**
 * STALE_WHILE_REVALIDATE_MS and early refresh against the built proxy: a
 * stale answer's headers, one refresh, and the stampede test of issue 14
 * (200 concurrent clients reading one hot key across 20 expiries: Redis
 * sees at most one GET of it per expiry). Latency across the expiries is
 * the benchmark's to measure (`npm run bench -- --only=stampede`).
 */
import t from 'tap';
import { agent, get } from './helpers/http.js';
import { scrape, total } from './helpers/metrics.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { getCalls } from './helpers/commandstats.js';
import { sleep } from './helpers/time.js';

const redis = await startRedis(t);
const http = agent(200);
t.teardown(() => http.close());

t.test('a stale answer comes at once with its age and RFC 5861 Cache-Control, and one GET refreshes the entry', async (t) => {
  // INVALIDATION=ttl: with tracking, the SET below would remove the entry at once.
  const proxy = await startProxy(t, {
    REDIS_URL: redis.url,
    SHARDS: '1',
    CACHE_TTL_MS: '1000',
    STALE_WHILE_REVALIDATE_MS: '5000',
    EARLY_REFRESH_BETA: '0',
    INVALIDATION: 'ttl',
  });
  await redis.client.set('swr:k', 'one');
  t.equal(
    (await get(proxy.url, '/swr:k', { dispatcher: http })).headers['cache-control'],
    'max-age=1',
    'fresh: the seconds left of the TTL',
  );
  await redis.client.set('swr:k', 'two');
  await sleep(1300);
  const before = await getCalls(redis.client);
  const stale = await get(proxy.url, '/swr:k', { dispatcher: http });
  t.equal(stale.body.toString(), 'one', 'the old value, at once');
  t.equal(stale.headers.age, '1');
  t.match(
    stale.headers['cache-control'],
    /^max-age=0, stale-while-revalidate=[45]$/,
    'what is left of the window, in whole seconds rounded up',
  );
  for (let i = 0; i < 50 && (await get(proxy.url, '/swr:k', { dispatcher: http })).body.toString() !== 'two'; i++) await sleep(20);
  t.equal((await get(proxy.url, '/swr:k', { dispatcher: http })).body.toString(), 'two', 'refreshed');
  t.equal((await getCalls(redis.client)) - before, 1, 'by one GET');
  const m = await scrape(proxy.admin);
  t.equal(total(m, 'shardcache_refreshes_started_total'), 1);
  t.ok(total(m, 'shardcache_stale_while_revalidate_served_total') >= 1);
  t.equal(total(m, 'shardcache_refreshes_failed_total'), 0);
});

/** 200 clients reading `key` as fast as they can for `ms`; returns the statuses seen. */
async function stampede(url: string, key: string, ms: number): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  const end = Date.now() + ms;
  await Promise.all(
    Array.from({ length: 200 }, async () => {
      while (Date.now() < end) {
        const { status } = await get(url, `/${key}`, { dispatcher: http });
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  return statuses;
}

for (const [name, env] of [
  ['STALE_WHILE_REVALIDATE_MS', { STALE_WHILE_REVALIDATE_MS: '1000', EARLY_REFRESH_BETA: '0' }],
  ['early refresh alone', { EARLY_REFRESH_BETA: '1' }],
] as const) {
  t.test(`stampede, ${name}: 200 clients over 20 expiries cost Redis at most one GET per expiry`, async (t) => {
    const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', CACHE_TTL_MS: '200', ...env });
    await redis.client.set('hot', 'x'.repeat(100));
    await get(proxy.url, '/hot', { dispatcher: http });
    const before = await getCalls(redis.client);
    const started = Date.now();
    const statuses = await stampede(proxy.url, 'hot', 4000);
    const periods = Math.ceil((Date.now() - started) / 200);
    const gets = (await getCalls(redis.client)) - before;
    const requests = [...statuses.values()].reduce((a, b) => a + b, 0);
    t.same([...statuses.keys()], [200], `${requests} answers, all 200`);
    // An early refresh renews the entry a little before its expiry, so its lifetimes are a little shorter than the TTL: 20% allowed.
    const most = name === 'STALE_WHILE_REVALIDATE_MS' ? periods + 1 : Math.floor(periods * 1.2) + 1;
    t.ok(gets <= most, `${gets} GETs of the hot key for ${periods} TTL periods (at most ${most})`);
    t.ok(gets >= periods / 2, 'and it was refreshed, not served from one fetch throughout');
    const m = await scrape(proxy.admin);
    t.comment(
      `misses ${total(m, 'shardcache_cache_misses_total')}, refreshes ${total(m, 'shardcache_refreshes_started_total')}, stale answers ${total(m, 'shardcache_stale_while_revalidate_served_total')}`,
    );
    if (name === 'STALE_WHILE_REVALIDATE_MS')
      t.equal(total(m, 'shardcache_cache_misses_total'), 1, 'no client waited on Redis: the only miss was the first read');
  });
}
