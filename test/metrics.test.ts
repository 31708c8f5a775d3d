/**
 * The admin listener of the built proxy: the metrics move exactly as the
 * requests sent predict, /healthz and /readyz follow Redis, and the shard
 * kill hook does not exist unless enabled.
 */
import t from 'tap';
import { Arena } from '../src/cache/arena.js';
import { ENTRY_BYTES } from '../src/cache/store.js';
import { request } from 'undici';
import { shardOf } from '../src/routing/hash.js';
import { agent, get } from './helpers/http.js';
import { samplesOf, scrape, total, waitForTotal } from './helpers/metrics.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { command, decodeAll, exchange } from './helpers/resp.js';
import { sleep } from './helpers/time.js';

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
  t.equal(total(before, 'shardcache_requests_total'), 0, 'nothing counted before the first request');
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
  const req = (method: string, status: string): number =>
    total(m, 'shardcache_requests_total', { protocol: 'http', command: method, status });
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
      // Everything the store holds: each entry's block (key and value) and metadata, and the shard's 16-slot index.
      bytes: own.reduce((sum, k) => sum + Arena.granules(k.length + Number(k.slice(2)) + 1) * 8 + ENTRY_BYTES, 64),
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
  t.equal(
    total(m, 'shardcache_redis_command_duration_seconds_count'),
    11,
    '11 GETs reached Redis: 10 keys once, plus one for the five coalesced',
  );
  t.equal(total(m, 'shardcache_redis_command_duration_seconds_bucket', { le: '+Inf' }), 11);
  t.ok(
    total(m, 'shardcache_redis_command_duration_seconds_bucket', { le: '0.25' }) <= 10,
    'the GET held by DEBUG SLEEP 0.5 is above 0.25 s',
  );
  t.equal(total(m, 'shardcache_inflight_requests'), 0);
  t.equal(total(m, 'shardcache_shard_restarts_total'), 0);
  t.equal(total(m, 'shardcache_shed_total'), 0);
  for (const thread of ['acceptor-0', 'shard-0', 'shard-1'])
    t.ok(m.has(`shardcache_event_loop_delay_seconds{thread="${thread}",quantile="0.99"}`), `event-loop delay of ${thread}`);
  t.ok(m.has('process_resident_memory_bytes'), 'the process metrics too');
});

t.test('requests, hits, misses and coalesced misses are counted per protocol, exactly', async (t) => {
  // Replies to GETs of co:* are held 1 s inside the shard, so that the flight of co:k stays in the air.
  const proxy = await startProxy(t, {
    REDIS_URL: redis.url,
    SHARDS: '2',
    RESP_PORT: '0',
    MAX_INFLIGHT: '4',
    MAX_KEY_BYTES: '16',
    CACHE_TTL_MS: '60000',
    SHARDCACHE_TEST_DELAY_GET: 'co::1000',
  });
  const port = proxy.respPort!;
  await redis.client.mset('p:1', 'one', 'p:2', 'two', 'p:3', 'three', 'co:k', 'held');
  await redis.client.del('p:absent', 'p:list');
  await redis.client.rpush('p:list', 'x');
  t.equal(total(await scrape(proxy.admin), 'shardcache_requests_total'), 0, 'nothing counted before the first request');
  /** What each key read did in the cache: [key, protocol, hit | miss | coalesced (a miss that joined a flight)]. */
  const reads: [string, 'http' | 'resp', 'hit' | 'miss' | 'coalesced'][] = [];
  const status = async (path: string, method: 'GET' | 'HEAD' | 'POST' = 'GET'): Promise<number> =>
    (await get(proxy.url, path, { method, dispatcher: http })).status;

  t.same(
    [
      await status('/p:1'),
      await status('/p:2'),
      await status('/p:1'),
      await status('/p:absent'),
      await status('/p:1', 'HEAD'),
      await status('/p:1', 'POST'),
    ],
    [200, 200, 200, 404, 200, 405],
  );
  reads.push(
    ['p:1', 'http', 'miss'],
    ['p:2', 'http', 'miss'],
    ['p:1', 'http', 'hit'],
    ['p:absent', 'http', 'miss'],
    ['p:1', 'http', 'hit'],
  );

  const pipelined = Buffer.concat([
    command('GET', 'p:1'),
    command('GET', 'p:3'),
    command('GET', 'p:absent'),
    command('GET', 'p:list'),
    command('FOO', 'bar'),
    command('PING'),
    command('GET'),
    command('CLIENT', 'GETNAME'),
  ]);
  const a = decodeAll((await exchange(port, pipelined, { replies: 8 })).data);
  t.same(a, [
    'one',
    'three',
    null,
    { error: 'WRONGTYPE Operation against a key holding the wrong kind of value' },
    { error: "ERR unknown or unsupported command 'FOO'" },
    'PONG',
    { error: "ERR wrong number of arguments for 'get' command" },
    null,
  ]);
  reads.push(['p:1', 'resp', 'hit'], ['p:3', 'resp', 'miss'], ['p:absent', 'resp', 'miss'], ['p:list', 'resp', 'miss']);
  const b = decodeAll((await exchange(port, command('MGET', 'p:1', 'p:3', 'p:absent', 'p:list'), { replies: 1 })).data);
  t.same(b, [['one', 'three', null, null]], 'MGET: absent and non-string keys are nil');
  // The GET found p:list to be a list, which is then cached whole (typed.ts): a hit now.
  reads.push(['p:1', 'resp', 'hit'], ['p:3', 'resp', 'hit'], ['p:absent', 'resp', 'miss'], ['p:list', 'resp', 'hit']);
  const c = decodeAll((await exchange(port, command('MGET', 'p:1', 'x'.repeat(17)), { replies: 1 })).data);
  t.same(c, [{ error: 'ERR key longer than MAX_KEY_BYTES (16 bytes)' }]);

  // HTTP starts the flight of co:k; three pipelined RESP GETs join it; with
  // MAX_INFLIGHT=4 reached, one more RESP GET and one more HTTP GET are shed.
  const shard = String(shardOf('co:k', 2));
  const waiting = async (n: number): Promise<void> => {
    for (let i = 0; i < 200 && total(await scrape(proxy.admin), 'shardcache_waiting_requests', { shard }) < n; i++) await sleep(5);
  };
  const first = status('/co:k');
  await waiting(1);
  const joined = exchange(port, Buffer.concat([command('GET', 'co:k'), command('GET', 'co:k'), command('GET', 'co:k')]), { replies: 3 });
  await waiting(4);
  t.same(decodeAll((await exchange(port, command('GET', 'co:k'), { replies: 1 })).data), [
    { error: 'ERR shard overloaded: MAX_INFLIGHT requests waiting on redis, try again' },
  ]);
  t.equal(await status('/co:k'), 503);
  t.equal(await first, 200);
  t.same(decodeAll((await joined).data), ['held', 'held', 'held']);
  reads.push(['co:k', 'http', 'miss'], ['co:k', 'resp', 'coalesced'], ['co:k', 'resp', 'coalesced'], ['co:k', 'resp', 'coalesced']);

  const m = await scrape(proxy.admin);
  const viaHttp = (method: string, code: number, n: number): [string, number] => [
    `{protocol="http",command="${method}",status="${code}"}`,
    n,
  ];
  const viaResp = (name: string, outcome: string, n: number): [string, number] => [
    `{protocol="resp",command="${name}",status="${outcome}"}`,
    n,
  ];
  t.same(
    samplesOf(m, 'shardcache_requests_total'),
    Object.fromEntries([
      viaHttp('GET', 200, 4),
      viaHttp('GET', 404, 1),
      viaHttp('GET', 503, 1),
      viaHttp('HEAD', 200, 1),
      viaHttp('other', 405, 1),
      viaResp('GET', 'ok', 5),
      viaResp('GET', 'nil', 1),
      viaResp('GET', 'error', 2),
      viaResp('GET', 'shed', 1),
      viaResp('MGET', 'ok', 1),
      viaResp('MGET', 'error', 1),
      viaResp('PING', 'ok', 1),
      viaResp('CLIENT', 'nil', 1),
      viaResp('other', 'error', 1),
    ]),
    'every request counted once, under its protocol, command and status, and nothing else',
  );
  for (const name of ['hits', 'misses', 'coalesced'] as const) {
    const expected: Record<string, number> = {};
    for (const s of ['0', '1']) for (const protocol of ['http', 'resp']) expected[`{shard="${s}",protocol="${protocol}"}`] = 0;
    for (const [key, protocol, kind] of reads) {
      const counted = name === 'hits' ? kind === 'hit' : name === 'misses' ? kind !== 'hit' : kind === 'coalesced';
      if (counted) expected[`{shard="${shardOf(key, 2)}",protocol="${protocol}"}`]!++;
    }
    t.same(samplesOf(m, `shardcache_cache_${name}_total`), expected, `${name} per shard and protocol`);
  }
  t.equal(total(m, 'shardcache_cache_hits_total', { protocol: 'resp' }), 4, 'RESP hits: p:1, then p:1, p:3 and p:list in the MGET');
  t.equal(total(m, 'shardcache_cache_misses_total', { protocol: 'resp' }), 7);
  t.equal(total(m, 'shardcache_cache_coalesced_total', { protocol: 'resp' }), 3);
  t.equal(total(m, 'shardcache_shed_total', { shard, reason: 'misses' }), 2, 'both refused as misses past MAX_INFLIGHT');
  t.equal(total(m, 'shardcache_shed_total', { reason: 'queue' }), 0);
  t.equal(total(m, 'shardcache_waiting_requests'), 0, 'nothing waiting on Redis any more');
});

t.test('expired and evicted, on one shard of capacity 2', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', CACHE_CAPACITY: '2', CACHE_TTL_MS: '400' });
  await redis.client.mset('e:a', '1', 'e:b', '2', 'e:c', '3');
  for (const k of ['e:a', 'e:b', 'e:c']) await get(proxy.url, `/${k}`, { dispatcher: http });
  await sleep(450);
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
    await sleep(100);
    ready = await admin('/readyz');
  }
  t.equal(ready.status, 503, 'not ready while Redis is down');
  t.match(ready.body.toString(), /^not ready: shard \d: redis down/);
  t.equal(
    await waitForTotal(proxy.admin, 'shardcache_tracking_armed', {}, 0),
    0,
    'tracking is not armed on either shard while Redis is down',
  );
  t.equal(total(await scrape(proxy.admin), 'shardcache_tracking_rearms_total'), 0, 'no re-arm yet');
  t.equal((await admin('/healthz')).status, 200, 'but alive');
  await local.restart();
  for (let i = 0; i < 50 && ready.status !== 200; i++) {
    await sleep(100);
    ready = await admin('/readyz');
  }
  t.equal(ready.status, 200, 'ready again once Redis is back');
  t.equal(await waitForTotal(proxy.admin, 'shardcache_tracking_armed', {}, 2), 2, 'tracking armed again on both shards');
  t.same(
    samplesOf(await scrape(proxy.admin), 'shardcache_tracking_rearms_total'),
    { '{shard="0"}': 1, '{shard="1"}': 1 },
    'one re-arm per shard',
  );
});
