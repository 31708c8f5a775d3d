/**
 * Changes to a cached key's expiry reach the cache (issue 20, item 3), on
 * the built proxy against a real redis-server: EXPIRE, PEXPIRE, EXPIREAT,
 * PERSIST, GETEX (EX and PERSIST) and SET … KEEPTTL, each applied in Redis
 * to a key the proxy holds. Redis's client tracking invalidates the key for
 * every one of them (each calls `signalModifiedKey`), so the next read
 * fetches the value with its new TTL: the test measures how soon the proxy's
 * `Cache-Control: max-age` follows, and with the same 50 ms bound as a SET.
 * On a cluster and behind sentinels, the basic expiry case: a key expired in
 * Redis is not served.
 */
import t from 'tap';
import { agent, get } from './helpers/http.js';
import { startCluster } from './helpers/cluster.js';
import { startSentinels } from './helpers/sentinel.js';
import { startProxy, startRedis, type Proxy } from './helpers/processes.js';
import { sleep } from './helpers/time.js';

const http = agent(4);
t.teardown(() => http.close());

const maxAgeOf = (h: string | string[] | undefined): number => Number(/max-age=(\d+)/.exec(String(h))![1]);

/** Runs `change`, then reads `key` until `done` holds (or 2 s pass); resolves with the ms it took. */
async function msUntil(
  proxy: Proxy,
  key: string,
  change: () => Promise<unknown>,
  done: (status: number, maxAge: number, body: string) => boolean,
): Promise<number> {
  await change();
  const start = performance.now();
  while (performance.now() - start < 2000) {
    const a = await get(proxy.url, `/${key}`, { dispatcher: http });
    if (done(a.status, a.status === 200 ? maxAgeOf(a.headers['cache-control']) : -1, a.body.toString())) return performance.now() - start;
  }
  return Number.POSITIVE_INFINITY;
}

t.test('every change of a cached key TTL reaches the proxy within 50 ms', async (t) => {
  const redis = await startRedis(t);
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', CACHE_TTL_MS: '900000' });
  const cached = async (key: string, value = 'v'): Promise<void> => {
    await redis.client.set(key, value, 'PX', 600000);
    const a = await get(proxy.url, `/${key}`, { dispatcher: http });
    t.equal(maxAgeOf(a.headers['cache-control']), 599, `${key}: cached with its key's life`);
    t.equal(maxAgeOf((await get(proxy.url, `/${key}`, { dispatcher: http })).headers['cache-control']), 599, `${key}: a hit`);
  };
  const cases: [string, () => Promise<unknown>, (status: number, maxAge: number, body: string) => boolean][] = [
    ['EXPIRE', () => redis.client.expire('x:expire', 30), (s, m) => s === 200 && m <= 30],
    ['PEXPIRE', () => redis.client.pexpire('x:pexpire', 20000), (s, m) => s === 200 && m <= 20],
    ['EXPIREAT', () => redis.client.expireat('x:expireat', Math.floor(Date.now() / 1000) + 40), (s, m) => s === 200 && m <= 40],
    ['PERSIST', () => redis.client.persist('x:persist'), (s, m) => s === 200 && m === 900],
    ['GETEX EX', () => redis.client.getex('x:getex-ex', 'EX', 25), (s, m) => s === 200 && m <= 25],
    ['GETEX PERSIST', () => redis.client.getex('x:getex-persist', 'PERSIST'), (s, m) => s === 200 && m === 900],
    ['SET KEEPTTL', () => redis.client.set('x:set-keepttl', 'v2', 'KEEPTTL'), (s, m, b) => s === 200 && b === 'v2' && m <= 599],
    ['EXPIRE 0', () => redis.client.expire('x:expire-0', 0), (s) => s === 404],
  ];
  for (const [name, change, done] of cases) {
    const key = `x:${name.toLowerCase().replace(/ /g, '-')}`;
    await cached(key);
    const ms = await msUntil(proxy, key, change, done);
    t.ok(ms <= 50, `${name}: the proxy follows in ${ms.toFixed(1)} ms`);
  }
});

/** SETs 20 keys with PX 1200 through `set`, reads them through `proxy`, and again after they expired. */
async function basicExpiry(
  t: { same(a: unknown, b: unknown, m: string): unknown; ok(a: boolean, m: string): unknown },
  proxy: Proxy,
  prefix: string,
  set: (key: string) => Promise<unknown>,
): Promise<void> {
  const keys = Array.from({ length: 20 }, (_, i) => `${prefix}:${i}`);
  for (const k of keys) await set(k);
  const first = await Promise.all(keys.map((k) => get(proxy.url, `/${k}`, { dispatcher: http })));
  t.same(
    first.map((a) => a.status),
    keys.map(() => 200),
    'served before expiry',
  );
  t.ok(
    first.every((a) => maxAgeOf(a.headers['cache-control']) <= 1),
    'max-age within the key life',
  );
  await sleep(1500);
  const after = await Promise.all(keys.map((k) => get(proxy.url, `/${k}`, { dispatcher: http })));
  t.same(
    after.map((a) => a.status),
    keys.map(() => 404),
    'none served after expiry',
  );
}

t.test('cluster: a key expired in Redis is not served, and max-age follows its life', async (t) => {
  const cluster = await startCluster(t);
  const proxy = await startProxy(t, { REDIS_CLUSTER_NODES: cluster.seeds, SHARDS: '2', CACHE_TTL_MS: '600000' });
  await basicExpiry(t, proxy, 'cx', (k) => cluster.client.set(k, 'v', 'PX', 1200));
});

t.test('sentinel: a key expired in Redis is not served, and max-age follows its life', async (t) => {
  const setup = await startSentinels(t);
  const proxy = await startProxy(t, {
    REDIS_SENTINELS: setup.sentinels,
    REDIS_SENTINEL_NAME: setup.name,
    SHARDS: '2',
    CACHE_TTL_MS: '600000',
  });
  const master = await setup.master();
  await basicExpiry(t, proxy, 'sx', (k) => master.client.set(k, 'v', 'PX', 1200));
});
