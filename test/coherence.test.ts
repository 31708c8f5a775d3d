/**
 * Coherence of the built proxy with INVALIDATION=tracking (the default):
 * changes made in Redis directly show through the proxy within 50 ms,
 * although CACHE_TTL_MS is ten minutes, so only invalidation explains it.
 * When the tracking link is lost and re-armed: coherence-rearm.test.ts.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { agent, get } from './helpers/http.js';
import { invalidationLags } from './helpers/lag.js';
import { scrape, total } from './helpers/metrics.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { proxyReads } from './helpers/coherence.js';
import { sleep } from './helpers/time.js';
import { commandCalls, getCalls } from './helpers/commandstats.js';

const redis = await startRedis(t);
const http = agent(32);
t.teardown(() => http.close());
const LONG_TTL = '600000';
const { body, msUntil } = proxyReads(http);

/** Reads sent to Redis so far: GET and MGET calls. */
const readCalls = async (): Promise<{ get: number; mget: number; script: number; all: number }> => {
  const [get, mget, script] = [
    await commandCalls(redis.client, 'get'),
    await commandCalls(redis.client, 'mget'),
    await commandCalls(redis.client, 'evalsha', 'eval'),
  ];
  return { get, mget, script, all: get + mget };
};

t.test('1,000 keys over 4 shards: a SET in Redis shows through the proxy within 50 ms', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '4', CACHE_TTL_MS: LONG_TTL });
  const keys = Array.from({ length: 1000 }, (_, i) => `coh:${i}`);
  await redis.client.mset(...keys.flatMap((k) => [k, `old-${k}`]));
  for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => body(proxy, k)));
  const calls = await getCalls(redis.client);
  for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => body(proxy, k)));
  t.equal(await getCalls(redis.client), calls, 'all 1,000 keys were cached: the second pass sent no GET or MGET');

  const { lags, remeasured } = await invalidationLags(
    keys,
    (k, attempt) =>
      msUntil(
        proxy,
        k,
        () => redis.client.set(k, `v${attempt}-${k}`),
        (s, b) => s === 200 && b === `v${attempt}-${k}`,
      ),
    50,
  );
  t.equal(lags.length, 1000);
  t.ok(remeasured <= 10, `at most 1% of the keys needed a second measurement (${remeasured})`);
  t.ok(
    lags[999]! <= 50,
    `every key shows its new value within 50 ms of a SET (median ${lags[500]!.toFixed(1)} ms, max ${lags[999]!.toFixed(1)} ms; ${remeasured} measured twice)`,
  );
});

t.test('DEL, EXPIRE reaching its end, FLUSHALL', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', CACHE_TTL_MS: LONG_TTL });
  await redis.client.mset('del:a', 'a', 'exp:a', 'e', 'fl:a', 'f', 'fl:b', 'g');
  for (const k of ['del:a', 'exp:a', 'fl:a', 'fl:b'])
    t.equal(await body(proxy, k), k === 'del:a' ? 'a' : k === 'exp:a' ? 'e' : k === 'fl:a' ? 'f' : 'g');

  t.ok(
    (await msUntil(
      proxy,
      'del:a',
      () => redis.client.del('del:a'),
      (s) => s === 404,
    )) <= 50,
    'DEL → 404 within 50 ms',
  );

  await redis.client.pexpire('exp:a', 200);
  t.equal(await body(proxy, 'exp:a'), 'e', 'served from the cache until it expires');
  // Redis reports an expired key when its expiry cycle (10 per second) or a read deletes it.
  const expired = await msUntil(
    proxy,
    'exp:a',
    () => sleep(200),
    (s) => s === 404,
  );
  t.ok(expired <= 500, `expiry → 404 within 500 ms of the deadline (${expired.toFixed(1)} ms), not after the 10-minute TTL`);

  const calls = await getCalls(redis.client);
  t.ok(
    (await msUntil(
      proxy,
      'fl:a',
      () => redis.client.flushall(),
      (s) => s === 404,
    )) <= 50,
    'FLUSHALL → 404 within 50 ms',
  );
  t.equal((await get(proxy.url, '/fl:b', { dispatcher: http })).status, 404, 'every key of every shard went');
  t.equal(await getCalls(redis.client), calls + 2, 'both were fetched again');
});

t.test('the race, forced: an invalidation overtaking the GET reply keeps the reply out of the cache', async (t) => {
  // Replies to GETs of race:* are held 300 ms in the worker; the SET lands in between.
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', CACHE_TTL_MS: LONG_TTL, SHARDCACHE_TEST_DELAY_GET: 'race::300' });
  await redis.client.set('race:k', 'old');
  const inFlight = body(proxy, 'race:k');
  await sleep(100);
  await redis.client.set('race:k', 'new');
  t.equal(await inFlight, 'old', 'the request in flight gets the value it was sent for');
  t.equal(await body(proxy, 'race:k'), 'new', 'the next request does not get it from the cache');
  t.equal(await body(proxy, 'race:k'), 'new');
});

t.test('the race through an MGET: the overtaken key is not cached, its neighbours are, and MGET reads are tracked', async (t) => {
  // SHARDS=1: a RESP MGET's keys reach the shard in one batch, so Redis gets
  // one read script for them (expiry-read.ts), held 300 ms because mrace:a matches.
  const proxy = await startProxy(t, {
    REDIS_URL: redis.url,
    SHARDS: '1',
    RESP_PORT: '0',
    CACHE_TTL_MS: LONG_TTL,
    SHARDCACHE_TEST_DELAY_GET: 'mrace::300',
  });
  const client = new Redis({ port: proxy.respPort!, host: '127.0.0.1', protocol: 2, maxRetriesPerRequest: 0 });
  t.teardown(() => client.disconnect());
  await redis.client.mset('mrace:a', 'old', 'mfree:b', 'B');
  const before = await readCalls();
  const inFlight = client.mget('mrace:a', 'mfree:b');
  await sleep(100);
  await redis.client.set('mrace:a', 'new');
  t.same(await inFlight, ['old', 'B'], 'the MGET in flight answers what it was sent for');
  const sent = await readCalls();
  t.same([sent.script - before.script, sent.mget - before.mget], [1, 1], 'both keys went in one script (its one MGET)');
  t.same(await client.mget('mrace:a', 'mfree:b'), ['new', 'B'], 'the overtaken key is fetched again');
  const again = await readCalls();
  t.same([again.script - sent.script, again.mget - sent.mget], [1, 1], 'mrace:a alone, one script; mfree:b came from the cache');
  t.ok(
    (await msUntil(
      proxy,
      'mfree:b',
      () => redis.client.set('mfree:b', 'B2'),
      (s, got) => s === 200 && got === 'B2',
    )) <= 50,
    'a key read only by the batch script is invalidated within 50 ms of its SET',
  );
});

t.test('two proxies on one Redis stay coherent', async (t) => {
  const a = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', CACHE_TTL_MS: LONG_TTL });
  const b = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '3', CACHE_TTL_MS: LONG_TTL });
  await redis.client.set('two:k', 'v1');
  t.equal(await body(a, 'two:k'), 'v1');
  t.equal(await body(b, 'two:k'), 'v1');
  for (const v of ['v2', 'v3']) {
    await redis.client.set('two:k', v);
    const acked = performance.now();
    const [la, lb] = await Promise.all(
      [a, b].map((p) =>
        msUntil(
          p,
          'two:k',
          async () => undefined,
          (_s, got) => got === v,
        ),
      ),
    );
    t.ok(
      la! <= 50 && lb! <= 50,
      `both serve ${v} within 50 ms of the SET (${la!.toFixed(1)}, ${lb!.toFixed(1)} ms; ${(performance.now() - acked).toFixed(1)} ms in all)`,
    );
  }
});

t.test('NEGATIVE_TTL_MS: a cached 404 becomes 200 right after a SET', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', CACHE_TTL_MS: LONG_TTL, NEGATIVE_TTL_MS: LONG_TTL });
  await redis.client.del('neg:k');
  t.equal((await get(proxy.url, '/neg:k', { dispatcher: http })).status, 404);
  const calls = await getCalls(redis.client);
  t.equal((await get(proxy.url, '/neg:k', { dispatcher: http })).status, 404);
  t.equal(await getCalls(redis.client), calls, 'the second 404 came from the cache');
  t.ok(
    (await msUntil(
      proxy,
      'neg:k',
      () => redis.client.set('neg:k', 'here'),
      (s, got) => s === 200 && got === 'here',
    )) <= 50,
    '200 within 50 ms of the SET',
  );
});

t.test('INVALIDATION=ttl: no subscriber; a change shows only after the TTL', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', CACHE_TTL_MS: '400', INVALIDATION: 'ttl' });
  await redis.client.set('ttl:k', 'one');
  t.equal(await body(proxy, 'ttl:k'), 'one');
  await redis.client.set('ttl:k', 'two');
  await sleep(100);
  t.equal(await body(proxy, 'ttl:k'), 'one', 'stale until the TTL');
  await sleep(350);
  t.equal(await body(proxy, 'ttl:k'), 'two');
  t.notMatch((await redis.client.client('LIST')) as string, /:invalidate /, 'no subscriber connection');
  const m = await scrape(proxy.admin);
  t.equal(total(m, 'shardcache_tracking_armed'), 0, 'tracking never armed');
  t.ok(m.has('shardcache_tracking_armed{shard="0"}'), 'but the gauge is there, at 0');
  t.match(proxy.logs(), /invalidation ttl/);
});
