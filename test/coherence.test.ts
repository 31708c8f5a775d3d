/**
 * Coherence of the built proxy with INVALIDATION=tracking (the default):
 * changes made in Redis directly show through the proxy within 50 ms,
 * although CACHE_TTL_MS is ten minutes, so only invalidation explains it.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { shardOf } from '../src/routing/hash.js';
import { agent, get } from './helpers/http.js';
import { invalidationLags } from './helpers/lag.js';
import { samplesOf, scrape, total, waitForTotal } from './helpers/metrics.js';
import { startProxy, startRedis, type Proxy } from './helpers/processes.js';
import { sleep } from './helpers/time.js';
import { commandCalls, getCalls } from './helpers/commandstats.js';

const redis = await startRedis(t);
const http = agent(32);
t.teardown(() => http.close());
const LONG_TTL = '600000';

/** Reads sent to Redis so far: GET and MGET calls. */
const readCalls = async (): Promise<{ get: number; mget: number; script: number; all: number }> => {
  const [get, mget, script] = [
    await commandCalls(redis.client, 'get'),
    await commandCalls(redis.client, 'mget'),
    await commandCalls(redis.client, 'evalsha', 'eval'),
  ];
  return { get, mget, script, all: get + mget };
};

/** Ids of the Redis connections named `name`, oldest first. */
async function clientIds(name: string): Promise<string[]> {
  const lines = ((await redis.client.client('LIST')) as string).split('\n').filter((l) => l.includes(` name=${name} `));
  return lines.map((l) => /id=(\d+)/.exec(l)![1]!);
}

const body = async (proxy: Proxy, key: string): Promise<string> => (await get(proxy.url, `/${key}`, { dispatcher: http })).body.toString();

/**
 * Milliseconds from the moment `change` was acknowledged by Redis until the
 * proxy answers `expected` for `key` (polled every 2 ms), or Infinity past 1 s.
 */
async function msUntil(
  proxy: Proxy,
  key: string,
  change: () => Promise<unknown>,
  expected: (status: number, body: string) => boolean,
): Promise<number> {
  await change();
  const acked = performance.now();
  while (performance.now() - acked < 1000) {
    const answer = await get(proxy.url, `/${key}`, { dispatcher: http });
    if (expected(answer.status, answer.body.toString())) return performance.now() - acked;
    await sleep(2);
  }
  return Number.POSITIVE_INFINITY;
}

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

t.test('subscriber killed with CLIENT KILL: cache flushed, tracking re-armed, answers right', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', CACHE_TTL_MS: LONG_TTL });
  await redis.client.set('kill:k', 'one');
  t.equal(await body(proxy, 'kill:k'), 'one');
  const idOf = async (name: string): Promise<string> => (await clientIds(name))[0] ?? '';
  const oldId = await idOf('shardcache:shard-0:invalidate');
  t.not(oldId, '', 'the subscriber is named in CLIENT LIST');
  const calls = await getCalls(redis.client);
  await redis.client.client('KILL', 'ID', oldId);
  const deadline = Date.now() + 5000;
  let redir = '';
  let newId = '';
  while (Date.now() < deadline) {
    newId = await idOf('shardcache:shard-0:invalidate');
    const data = ((await redis.client.client('LIST')) as string).split('\n').find((l) => l.includes(' name=shardcache:shard-0 '));
    redir = /redir=(-?\d+)/.exec(data ?? '')?.[1] ?? '';
    if (newId !== '' && newId !== oldId && redir === newId) break;
    await sleep(20);
  }
  t.not(newId, oldId, 'a new subscriber connection');
  t.equal(redir, newId, 'the data connection tracks toward it');
  await sleep(50);
  t.equal(await body(proxy, 'kill:k'), 'one');
  t.equal(await getCalls(redis.client), calls + 1, 'the cached value was flushed and fetched again');
  t.ok(
    (await msUntil(
      proxy,
      'kill:k',
      () => redis.client.set('kill:k', 'two'),
      (_s, b) => b === 'two',
    )) <= 50,
    'invalidations flow again',
  );
  t.match(proxy.logs(), /shard 0: invalidation tracking re-armed/);
});

t.test('invalidation metrics: keys and flushes per shard, a re-arm after CLIENT KILL, the armed gauge', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', CACHE_TTL_MS: LONG_TTL });
  const names = Array.from({ length: 32 }, (_, i) => `im:${i}`);
  const [a, b] = [0, 1].map((shard) => names.find((k) => shardOf(k, 2) === shard)!) as [string, string];
  await redis.client.mset(a, 'a1', b, 'b1');
  t.same([await body(proxy, a), await body(proxy, b)], ['a1', 'b1']);
  const m0 = await scrape(proxy.admin);
  t.same(samplesOf(m0, 'shardcache_tracking_armed'), { '{shard="0"}': 1, '{shard="1"}': 1 }, 'armed on both shards');
  t.equal(total(m0, 'shardcache_invalidations_total'), 0);

  // Each write to a key the proxy has read is one key invalidation; reading it again tracks it again.
  t.ok(
    (await msUntil(
      proxy,
      a,
      () => redis.client.set(a, 'a2'),
      (_s, got) => got === 'a2',
    )) <= 50,
    'SET',
  );
  t.ok(
    (await msUntil(
      proxy,
      a,
      () => redis.client.del(a),
      (s) => s === 404,
    )) <= 50,
    'DEL',
  );
  t.ok(
    (await msUntil(
      proxy,
      b,
      () => redis.client.set(b, 'b2'),
      (_s, got) => got === 'b2',
    )) <= 50,
    'SET on the other shard',
  );
  await redis.client.flushall();
  t.equal(await waitForTotal(proxy.admin, 'shardcache_invalidations_total', { kind: 'flush' }, 2), 2, 'FLUSHALL reaches both shards');
  t.same(
    samplesOf(await scrape(proxy.admin), 'shardcache_invalidations_total'),
    { '{shard="0",kind="key"}': 2, '{shard="0",kind="flush"}': 1, '{shard="1",kind="key"}': 1, '{shard="1",kind="flush"}': 1 },
    'two keys on shard 0 (SET, DEL), one on shard 1; one flush each',
  );

  await redis.client.client('KILL', 'ID', (await clientIds('shardcache:shard-0:invalidate'))[0]!);
  t.equal(
    await waitForTotal(proxy.admin, 'shardcache_tracking_rearms_total', { shard: '0' }, 1),
    1,
    'shard 0 re-armed once after its subscriber was killed',
  );
  const m = await scrape(proxy.admin);
  t.same(samplesOf(m, 'shardcache_tracking_rearms_total'), { '{shard="0"}': 1, '{shard="1"}': 0 }, 'shard 1 untouched');
  t.same(samplesOf(m, 'shardcache_tracking_armed'), { '{shard="0"}': 1, '{shard="1"}': 1 }, 'armed again');
});

t.test('a data connection that goes silent (Redis asleep for 4 s) is replaced: flushed, re-armed, answers right', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', CACHE_TTL_MS: LONG_TTL });
  await redis.client.set('quiet:k', 'one');
  t.equal(await body(proxy, 'quiet:k'), 'one');
  const [dataId] = await clientIds('shardcache:shard-0');
  const calls = await getCalls(redis.client);
  // Idle links are pinged every second and one unanswered for a second is dropped: 4 s of silence is enough.
  const { done } = await redis.hold(t, 4);
  await done;
  let ids: string[] = [];
  for (
    let i = 0;
    i < 250 && (ids.length !== 1 || ids[0] === dataId || total(await scrape(proxy.admin), 'shardcache_tracking_armed') !== 1);
    i++
  ) {
    await sleep(20);
    ids = await clientIds('shardcache:shard-0');
  }
  t.equal(ids.length, 1, 'one data connection');
  t.not(ids[0], dataId, 'and a new one: the old one was dropped by its unanswered PING');
  t.match(proxy.logs(), /shard 0: redis connection silent \(PING unanswered for 1000 ms\); reconnecting/);
  const m = await scrape(proxy.admin);
  t.ok(total(m, 'shardcache_tracking_rearms_total') >= 1, 'tracking was re-armed');
  t.equal(total(m, 'shardcache_tracking_armed'), 1, 'and is armed');
  t.equal(await body(proxy, 'quiet:k'), 'one');
  t.equal(await getCalls(redis.client), calls + 1, 'the cache was flushed: fetched again');
  t.ok(
    (await msUntil(
      proxy,
      'quiet:k',
      () => redis.client.set('quiet:k', 'two'),
      (_s, got) => got === 'two',
    )) <= 50,
    'invalidations flow on the new data connection',
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
