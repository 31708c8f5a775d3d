/**
 * HTTP caching semantics and limits of the built proxy: ETag, If-None-Match
 * → 304, Cache-Control max-age and Age; MAX_VALUE_BYTES; KEY_PREFIX; and
 * that Redis sees nothing but GET besides what the connection needs.
 */
import t from 'tap';
import { Arena } from '../src/cache/arena.js';
import { ENTRY_BYTES } from '../src/cache/store.js';
import { request } from 'undici';
import { agent, get } from './helpers/http.js';
import { scrape, total } from './helpers/metrics.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { command, decodeAll, exchange } from './helpers/resp.js';
import { sleep } from './helpers/time.js';

const redis = await startRedis(t);
const http = agent(8);
t.teardown(() => http.close());

async function conditional(base: string, path: string, ifNoneMatch: string, method: 'GET' | 'HEAD' = 'GET') {
  const res = await request(base + path, { method, headers: { 'if-none-match': ifNoneMatch }, dispatcher: http });
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
}

t.test('ETag, If-None-Match → 304, Cache-Control: max-age counts down the TTL, Age counts up', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', CACHE_TTL_MS: '60000' });
  await redis.client.set('c:v', 'cached value');
  const first = await get(proxy.url, '/c:v', { dispatcher: http });
  const etag = first.headers.etag as string;
  t.match(etag, /^"[0-9a-f]{16}"$/, 'a strong, quoted tag');
  t.equal(first.headers['cache-control'], 'max-age=60');
  t.equal(first.headers.age, '0');
  t.equal((await get(proxy.url, '/c:v', { dispatcher: http })).headers.etag, etag, 'the same tag from the cache');

  const notModified = await conditional(proxy.url, '/c:v', etag);
  t.equal(notModified.status, 304);
  t.equal(notModified.body.length, 0);
  t.equal(notModified.headers.etag, etag);
  t.equal(notModified.headers['content-length'], undefined, 'no body length on a 304');
  for (const field of [`"nope", ${etag}`, `W/${etag}`, '*'])
    t.equal((await conditional(proxy.url, '/c:v', field)).status, 304, `If-None-Match: ${field}`);
  t.equal((await conditional(proxy.url, '/c:v', etag, 'HEAD')).status, 304, 'HEAD too');
  const other = await conditional(proxy.url, '/c:v', '"0000000000000000"');
  t.equal(other.status, 200, 'another tag: the value');
  t.equal(other.body.toString(), 'cached value');

  await sleep(1100);
  const later = await get(proxy.url, '/c:v', { dispatcher: http });
  const age = Number(later.headers.age);
  const maxAge = Number(/^max-age=(\d+)$/.exec(later.headers['cache-control'] as string)![1]);
  t.ok(age >= 1, `Age ${age} ≥ 1 after a second`);
  t.ok(maxAge <= 59, `max-age ${maxAge} ≤ 59`);
  t.ok(age + maxAge >= 59 && age + maxAge <= 60, 'Age + max-age is the TTL, give or take the rounding');
  const m = await scrape(proxy.admin);
  t.equal(total(m, 'shardcache_requests_total', { protocol: 'http', status: '304' }), 5, 'the 304s are counted');
});

t.test('a new value after the TTL gets a new tag; an old tag then gets the value', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', CACHE_TTL_MS: '300' });
  await redis.client.set('c:change', 'one');
  const old = (await get(proxy.url, '/c:change', { dispatcher: http })).headers.etag as string;
  await redis.client.set('c:change', 'two');
  await sleep(350);
  const fresh = await conditional(proxy.url, '/c:change', old);
  t.equal(fresh.status, 200);
  t.equal(fresh.body.toString(), 'two');
  t.not(fresh.headers.etag, old);
  t.equal(fresh.headers['cache-control'], 'max-age=0', 'a TTL under a second leaves no whole second');
});

t.test('MAX_VALUE_BYTES: a larger value is served whole, without ETag, and fetched again each time', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', MAX_VALUE_BYTES: '1000', CACHE_TTL_MS: '60000' });
  const big = Buffer.alloc(5000, 'b');
  await redis.client.set('c:big', big);
  await redis.client.set('c:fits', 'f'.repeat(1000));
  for (let i = 0; i < 3; i++) {
    const got = await get(proxy.url, '/c:big', { dispatcher: http });
    t.equal(got.status, 200);
    t.ok(got.body.equals(big), 'the whole value');
    t.equal(got.headers.etag, undefined, 'not cached, so no tag');
  }
  for (let i = 0; i < 2; i++)
    t.ok((await get(proxy.url, '/c:fits', { dispatcher: http })).headers.etag, 'a value of exactly MAX_VALUE_BYTES is cached');
  const m = await scrape(proxy.admin);
  t.equal(total(m, 'shardcache_too_large_total'), 3);
  t.equal(total(m, 'shardcache_cache_misses_total'), 4, 'three for the large value, one for the one that fits');
  t.equal(total(m, 'shardcache_cache_entries'), 1);
  t.equal(
    total(m, 'shardcache_cache_bytes'),
    Arena.granules('c:fits'.length + 1000) * 8 + ENTRY_BYTES + 64,
    'its block, its metadata and the index',
  );
});

t.test('KEY_PREFIX: other keys get 403 without reaching Redis', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', KEY_PREFIX: 'app%3A' });
  await redis.client.mset('app:x', 'inside', 'other', 'outside');
  await redis.client.config('RESETSTAT');
  t.equal((await get(proxy.url, '/app:x', { dispatcher: http })).body.toString(), 'inside');
  t.equal((await get(proxy.url, '/app%3Ax', { dispatcher: http })).status, 200, 'the prefix is matched after decoding');
  for (const path of ['/other', '/app', '/ap:x', '/APP:x']) {
    const got = await get(proxy.url, path, { dispatcher: http });
    t.equal(got.status, 403, path);
    t.equal(got.body.toString(), 'key outside KEY_PREFIX\n');
  }
  const info = await redis.client.info('commandstats');
  t.match(info, /cmdstat_mget:calls=1,/, "one read (the script's MGET): the refused keys never reached Redis");
});

t.test('Redis sees the read script (MGET and PTTL inside EVALSHA) and nothing else but the connection set-up', async (t) => {
  const local = await startRedis(t);
  const proxy = await startProxy(t, { REDIS_URL: local.url, SHARDS: '1', RESP_PORT: '0' });
  await local.client.set('c:only', 'x');
  for (const path of ['/c:only', '/c:absent', '/c:only']) await get(proxy.url, path, { dispatcher: http });
  // Two misses in one batch (one shard, one RESP MGET): one script.
  t.same(decodeAll((await exchange(proxy.respPort!, command('MGET', 'c:m1', 'c:m2'), { replies: 1 })).data), [[null, null]]);
  const commands = [...(await local.client.info('commandstats')).matchAll(/^cmdstat_([^:]+):/gm)].map((m) => m[1]!).sort();
  // The proxy's: the read script, EVALSHA (EVAL once, when Redis does not
  // know it yet), whose MGET and PTTL Redis counts too; the connection set-up of
  // ioredis (HELLO, CLIENT SETNAME, the INFO ready check); the invalidation
  // link's (its subscriber's CLIENT ID and SUBSCRIBE, CLIENT TRACKING on the
  // data connection); CONFIG GET of the tracking table's size (shard 0);
  // PING on a connection idle for a second. The test's
  // own: PING (start-up probe), SET (above) and INFO (this very call).
  const allowed = [
    'evalsha',
    'eval',
    'mget',
    'pttl',
    'config|get',
    'hello',
    'client|setname',
    'info',
    'ping',
    'set',
    'client|id',
    'client|tracking',
    'subscribe',
  ];
  t.same(
    commands.filter((c) => !allowed.includes(c)),
    [],
    `no other command; seen: ${commands.join(', ')}`,
  );
  t.ok(
    commands.includes('evalsha') && commands.includes('mget') && commands.includes('pttl'),
    'the script, and its MGET and PTTL, were seen',
  );
  t.notOk(commands.includes('get'), 'no GET: the script reads every batch, one key too');
});
