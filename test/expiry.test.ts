/**
 * Redis's own expiry bounds every cached copy (issue 20), on the built proxy
 * against a real redis-server that holds 200,000 keys with a 1 h TTL, so
 * that its active expiry reaches a short-lived key only by luck and the
 * tracking invalidation of an expired key comes minutes late. Keys SET with
 * PX 1000–2000 ms are read through HTTP GET and HEAD, RESP GET and MGET, and
 * read again once expired: none may be served. The same run with the TTL
 * read switched off (SHARDCACHE_TEST_NO_EXPIRY, test hooks only) shows what
 * the test would see without it.
 */
import t from 'tap';
import type { RedisServer } from './helpers/processes.js';
import { agent, get } from './helpers/http.js';
import { startProxy, startRedis, type Proxy } from './helpers/processes.js';
import { command, decodeAll, exchange, type Reply } from './helpers/resp.js';
import { sleep } from './helpers/time.js';

const BULK = 200_000;
const PER_PATH = 40;
const redis = await startRedis(t);
const http = agent(8);
t.teardown(() => http.close());

await redis.client.call('DEBUG', 'POPULATE', String(BULK), 'bulk', '16');
await redis.client.eval(`for i = 0, ARGV[1] - 1 do redis.call('EXPIRE', 'bulk:' .. i, 3600) end`, 0, String(BULK));
t.equal(Number(/expires=(\d+)/.exec(await redis.client.info('keyspace'))![1]), BULK, `${BULK} keys with a 1 h TTL`);

/** PX of key `i`: spread over 1000–2000 ms. */
const pxOf = (i: number): number => 1000 + ((i * 97) % 1000);

/** SETs `count` keys `prefix:i` with their PX; resolves with when they were sent and when the last expires (ms of Date.now). */
async function setShortLived(prefix: string, count: number): Promise<{ sent: number; lastExpiry: number }> {
  const pipe = redis.client.pipeline();
  for (let i = 0; i < count; i++) pipe.set(`${prefix}:${i}`, `v${i}`, 'PX', pxOf(i));
  const sent = Date.now();
  await pipe.exec();
  return { sent, lastExpiry: Date.now() + 2000 };
}

/** How many of keys 0…count-1, SET at `sent`, still live at `at` (on a loaded machine a read can outlast the shortest PX). */
const liveAt = (sent: number, at: number, count: number): number => keysOf('', count).filter((_, i) => sent + pxOf(i) > at).length;

const keysOf = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}:${i}`);

async function respGets(port: number, keys: string[]): Promise<Reply[]> {
  const { data } = await exchange(port, Buffer.concat(keys.map((k) => command('GET', k))), { replies: keys.length, timeoutMs: 5000 });
  return decodeAll(data);
}

async function respMget(port: number, keys: string[]): Promise<Reply[]> {
  const { data } = await exchange(port, command('MGET', ...keys), { replies: 1, timeoutMs: 5000 });
  return decodeAll(data)[0] as Reply[];
}

/** Reads `keys` over one path; resolves with how many were served (a value, not 404 or nil), and the max-ages seen. */
async function readAll(
  proxy: Proxy,
  path: 'GET' | 'HEAD' | 'RESP GET' | 'MGET',
  keys: string[],
): Promise<{ served: number; maxAges: number[] }> {
  const maxAges: number[] = [];
  if (path === 'GET' || path === 'HEAD') {
    const answers = await Promise.all(keys.map((k) => get(proxy.url, `/${k}`, { method: path, dispatcher: http })));
    for (const a of answers) if (a.status === 200) maxAges.push(Number(/max-age=(\d+)/.exec(a.headers['cache-control'] as string)![1]));
    return { served: answers.filter((a) => a.status === 200).length, maxAges };
  }
  const replies = path === 'MGET' ? await respMget(proxy.respPort!, keys) : await respGets(proxy.respPort!, keys);
  return { served: replies.filter((r) => typeof r === 'string').length, maxAges };
}

const PATHS = ['GET', 'HEAD', 'RESP GET', 'MGET'] as const;

/** Caches short-lived keys over every path, waits past their expiry, reads again: how many were served after expiry, per path. */
async function servedAfterExpiry(
  t: { equal(a: unknown, b: unknown, m: string): unknown; ok(a: boolean, m: string): unknown },
  proxy: Proxy,
  tag: 'on' | 'off' | 'ttl' | 'swr',
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const expiresBy: Record<string, number> = {};
  for (const path of PATHS) {
    const prefix = `otp:${tag}:${path.replace(' ', '-')}`;
    const { sent, lastExpiry } = await setShortLived(prefix, PER_PATH);
    expiresBy[path] = lastExpiry;
    const first = await readAll(proxy, path, keysOf(prefix, PER_PATH));
    const live = liveAt(sent, Date.now(), PER_PATH);
    t.ok(
      first.served >= live && live > PER_PATH / 2,
      `${tag} ${path}: ${first.served} of ${PER_PATH} served before their expiry (${live} were still live when the read ended)`,
    );
    if (tag !== 'off' && (path === 'GET' || path === 'HEAD'))
      t.ok(
        first.maxAges.every((s) => s <= 1),
        `${tag} ${path}: max-age within the key's life (≤ 1 s of 1–2 s): ${[...new Set(first.maxAges)].join(',')}`,
      );
  }
  await sleep(Math.max(...Object.values(expiresBy)) + 300 - Date.now());
  for (const path of PATHS) out[path] = (await readAll(proxy, path, keysOf(`otp:${tag}:${path.replace(' ', '-')}`, PER_PATH))).served;
  return out;
}

const base = (extra: Record<string, string> = {}) => ({
  REDIS_URL: redis.url,
  SHARDS: '2',
  RESP_PORT: '0',
  CACHE_TTL_MS: '600000',
  SHARDCACHE_TEST_HOOKS: '1',
  ...extra,
});

t.test('no key is served after its expiry, over HTTP GET, HEAD, RESP GET and MGET; without the TTL read, they are', async (t) => {
  const proxy = await startProxy(t, base());
  const served = await servedAfterExpiry(t, proxy, 'on');
  t.same(served, { GET: 0, HEAD: 0, 'RESP GET': 0, MGET: 0 }, 'none served after expiry');
  await proxy.stop();
  const without = await startProxy(t, base({ SHARDCACHE_TEST_NO_EXPIRY: '1' }));
  const stale = await servedAfterExpiry(t, without, 'off');
  t.comment(`without the TTL read, served after expiry (of ${PER_PATH} per path): ${JSON.stringify(stale)}`);
  t.ok(
    Object.values(stale).every((n) => n > PER_PATH / 2),
    'the comparison: most are served stale without it',
  );
});

t.test('INVALIDATION=ttl, and stale-while-revalidate with early refresh: none served after expiry over every path', async (t) => {
  // ttl: no tracking, so no invalidation could ever come; only the entry's own expiry ends it.
  const ttl = await startProxy(t, base({ INVALIDATION: 'ttl' }));
  t.same(await servedAfterExpiry(t, ttl, 'ttl'), { GET: 0, HEAD: 0, 'RESP GET': 0, MGET: 0 }, 'INVALIDATION=ttl: none served after expiry');
  await ttl.stop();
  // Past CACHE_TTL_MS (400 ms) the entries are stale, within a 60 s window, and hits refresh them early.
  const swr = await startProxy(t, base({ CACHE_TTL_MS: '400', STALE_WHILE_REVALIDATE_MS: '60000', EARLY_REFRESH_BETA: '2' }));
  t.same(
    await servedAfterExpiry(t, swr, 'swr'),
    { GET: 0, HEAD: 0, 'RESP GET': 0, MGET: 0 },
    'stale-while-revalidate and early refresh: none served after expiry',
  );
});

t.test('stale-while-revalidate and early refresh on: a stale answer never reaches past the key expiry', async (t) => {
  const proxy = await startProxy(t, base({ CACHE_TTL_MS: '400', STALE_WHILE_REVALIDATE_MS: '60000', EARLY_REFRESH_BETA: '2' }));
  await redis.client.set('swr:k', 'v', 'PX', 1800);
  t.equal((await get(proxy.url, '/swr:k', { dispatcher: http })).status, 200);
  await sleep(600);
  const stale = await get(proxy.url, '/swr:k', { dispatcher: http });
  t.equal(stale.status, 200, 'within the SWR window and the key life: served');
  const window = Number(/stale-while-revalidate=(\d+)/.exec(stale.headers['cache-control'] as string)?.[1] ?? 0);
  t.ok(window <= 1, `stale-while-revalidate=${window}, not past the key's expiry (≈1.2 s left), though the window is 60 s`);
  const until = Date.now() + 2200;
  let servedLate = 0;
  // Hits all along: each may start a refresh (SWR, XFetch), none may serve past the expiry.
  while (Date.now() < until) {
    const a = await get(proxy.url, '/swr:k', { dispatcher: http });
    if (a.status === 200 && Date.now() > until - 300) servedLate++;
    await sleep(20);
  }
  t.equal(servedLate, 0, 'nothing served in the last 300 ms of the loop (the key expired ≥ 100 ms before)');
  t.equal((await get(proxy.url, '/swr:k', { dispatcher: http })).status, 404);
});

t.test('STALE_IF_ERROR_MS with Redis stopped: stale within the key life, 503 once it expired', async (t) => {
  const own: RedisServer = await startRedis(t);
  const proxy = await startProxy(t, base({ REDIS_URL: own.url, CACHE_TTL_MS: '300', STALE_IF_ERROR_MS: '60000', REDIS_TIMEOUT_MS: '200' }));
  await own.client.set('sie:short', 'v', 'PX', 1500);
  await own.client.set('sie:long', 'v', 'PX', 60000);
  await own.client.set('sie:none', 'v');
  for (const k of ['sie:short', 'sie:long', 'sie:none']) t.equal((await get(proxy.url, `/${k}`, { dispatcher: http })).status, 200);
  await own.stop();
  await sleep(500);
  t.equal(
    (await get(proxy.url, '/sie:short', { dispatcher: http })).status,
    200,
    'Redis down, past CACHE_TTL_MS, within the key life: stale',
  );
  await sleep(1200);
  t.equal((await get(proxy.url, '/sie:short', { dispatcher: http })).status, 503, 'expired in Redis: gone, not stale');
  t.equal((await get(proxy.url, '/sie:long', { dispatcher: http })).status, 200, 'a key with life left: still stale');
  t.equal((await get(proxy.url, '/sie:none', { dispatcher: http })).status, 200, 'a key without a TTL: stale as before');
});
