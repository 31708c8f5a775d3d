/**
 * The admin listener of the built proxy: the metrics move exactly as the
 * requests sent predict, /healthz and /readyz follow Redis, and the shard
 * kill hook does not exist unless enabled.
 */
import t from 'tap';
import { request } from 'undici';
import { shardOf } from '../src/routing/hash.js';
import { agent, get } from './helpers/http.js';
import { scrape, total } from './helpers/metrics.js';
import { startProxy, startRedis } from './helpers/processes.js';

const redis = await startRedis(t);
const http = agent(8);
t.teardown(() => http.close());

t.test('hits, misses, coalesced, entries, bytes, statuses, latency: as predicted', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', CACHE_TTL_MS: '60000', REDIS_TIMEOUT_MS: '5000' });
  const present = Array.from({ length: 8 }, (_, i) => `m:${i}`);
  const absent = ['m:absent:1', 'm:absent:2'];
  await redis.client.mset(...present.flatMap((k, i) => [k, 'v'.repeat(i + 1)]));
  await redis.client.del(...absent);
  const before = await scrape(proxy.admin);
  t.equal(total(before, 'shardcache_http_requests_total'), 0, 'nothing counted before the first request');
  t.equal(total(before, 'shardcache_redis_up'), 2, 'both shards report Redis up');

  for (const k of [...present, ...absent]) await get(proxy.url, `/${k}`, { dispatcher: http });
  for (const k of present) await get(proxy.url, `/${k}`, { dispatcher: http });
  await get(proxy.url, '/m:0', { method: 'HEAD', dispatcher: http });
  await get(proxy.url, '/m:0', { method: 'POST', dispatcher: http });
  await get(proxy.url, '/', { dispatcher: http });
  // Five concurrent misses of one key while Redis sleeps: one GET, four coalesced.
  const { done: sleeping } = await redis.hold(t, 0.5);
  await Promise.all(Array.from({ length: 5 }, () => get(proxy.url, '/m:absent:3', { dispatcher: http })));
  await sleeping;

  const m = await scrape(proxy.admin);
  const req = (method: string, status: string): number => total(m, 'shardcache_http_requests_total', { method, status });
  t.equal(req('GET', '200'), 16, 'GET 200: 8 misses + 8 hits');
  t.equal(req('GET', '404'), 7, 'GET 404: two absent keys, five coalesced requests');
  t.equal(req('HEAD', '200'), 1);
  t.equal(req('other', '405'), 1);
  t.equal(req('GET', '400'), 1);
  const expected = [0, 1].map((shard) => {
    const own = present.filter((k) => shardOf(k, 2) === shard);
    return {
      hits: own.length + (shard === shardOf('m:0', 2) ? 1 : 0),
      misses: own.length + absent.filter((k) => shardOf(k, 2) === shard).length + (shard === shardOf('m:absent:3', 2) ? 5 : 0),
      entries: own.length,
      bytes: own.reduce((sum, k) => sum + Number(k.slice(2)) + 1, 0),
      coalesced: shard === shardOf('m:absent:3', 2) ? 4 : 0,
    };
  });
  for (const [shard, e] of expected.entries()) {
    const at = { shard: String(shard) };
    t.equal(total(m, 'shardcache_cache_hits_total', at), e.hits, `shard ${shard} hits`);
    t.equal(total(m, 'shardcache_cache_misses_total', at), e.misses, `shard ${shard} misses`);
    t.equal(total(m, 'shardcache_cache_entries', at), e.entries, `shard ${shard} entries`);
    t.equal(total(m, 'shardcache_cache_bytes', at), e.bytes, `shard ${shard} bytes`);
    t.equal(total(m, 'shardcache_cache_coalesced_total', at), e.coalesced, `shard ${shard} coalesced`);
  }
  t.equal(total(m, 'shardcache_redis_command_duration_seconds_count'), 11, '11 GETs reached Redis: 10 keys once, plus one for the five coalesced');
  t.equal(total(m, 'shardcache_redis_command_duration_seconds_bucket', { le: '+Inf' }), 11);
  t.ok(total(m, 'shardcache_redis_command_duration_seconds_bucket', { le: '0.25' }) <= 10, 'the GET held by DEBUG SLEEP 0.5 is above 0.25 s');
  t.equal(total(m, 'shardcache_inflight_requests'), 0);
  t.equal(total(m, 'shardcache_shard_restarts_total'), 0);
  t.equal(total(m, 'shardcache_shed_total'), 0);
  for (const thread of ['main', 'shard-0', 'shard-1']) t.ok(m.has(`shardcache_event_loop_delay_seconds{thread="${thread}",quantile="0.99"}`), `event-loop delay of ${thread}`);
  t.ok(m.has('process_resident_memory_bytes'), 'the process metrics too');
});

t.test('expired and evicted, on one shard of capacity 2', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', CACHE_CAPACITY: '2', CACHE_TTL_MS: '400' });
  await redis.client.mset('e:a', '1', 'e:b', '2', 'e:c', '3');
  for (const k of ['e:a', 'e:b', 'e:c']) await get(proxy.url, `/${k}`, { dispatcher: http });
  await new Promise((resolve) => setTimeout(resolve, 450));
  await get(proxy.url, '/e:c', { dispatcher: http });
  const m = await scrape(proxy.admin);
  t.equal(total(m, 'shardcache_cache_evicted_total'), 1, 'e:a evicted by e:c');
  t.equal(total(m, 'shardcache_cache_expired_total'), 1, 'e:c read past its TTL');
  t.equal(total(m, 'shardcache_cache_misses_total'), 4);
  t.equal(total(m, 'shardcache_cache_hits_total'), 0);
  t.equal(total(m, 'shardcache_cache_entries'), 2, 'e:b (expired, unread) and the new e:c');
});

t.test('/healthz, /readyz follow Redis; unknown paths 404; the kill hook is off by default', async (t) => {
  const local = await startRedis(t);
  const proxy = await startProxy(t, { REDIS_URL: local.url, SHARDS: '2', REDIS_TIMEOUT_MS: '300' });
  const admin = (path: string, method: 'GET' | 'POST' = 'GET') => get(proxy.admin, path, { method, dispatcher: http });
  t.equal((await admin('/healthz')).status, 200);
  t.equal((await admin('/readyz')).body.toString(), 'ready\n');
  t.equal((await admin('/nope')).status, 404);
  t.equal((await admin('/metrics', 'POST')).status, 405);
  t.equal((await admin('/test/kill-shard/0', 'POST')).status, 404, 'no kill hook without SHARDCACHE_TEST_HOOKS=1');
  const head = await request(`${proxy.admin}/metrics`, { method: 'HEAD', dispatcher: http });
  await head.body.dump();
  t.equal(head.statusCode, 200);
  await local.kill();
  let ready = await admin('/readyz');
  for (let i = 0; i < 50 && ready.status === 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    ready = await admin('/readyz');
  }
  t.equal(ready.status, 503, 'not ready while Redis is down');
  t.match(ready.body.toString(), /^not ready: shard \d: redis down/);
  t.equal((await admin('/healthz')).status, 200, 'but alive');
  await local.restart();
  for (let i = 0; i < 50 && ready.status !== 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    ready = await admin('/readyz');
  }
  t.equal(ready.status, 200, 'ready again once Redis is back');
});
