/**
 * Coherence of the built proxy when its tracking link to Redis is lost: the
 * subscriber killed with CLIENT KILL, the invalidation metrics around a
 * re-arm, a data connection gone silent. Each time the cache is flushed,
 * tracking re-armed and answers stay right. The steady state: coherence.test.ts.
 */
import t from 'tap';
import { shardOf } from '../src/routing/hash.js';
import { agent } from './helpers/http.js';
import { samplesOf, scrape, total, waitForTotal } from './helpers/metrics.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { proxyReads } from './helpers/coherence.js';
import { sleep } from './helpers/time.js';
import { getCalls } from './helpers/commandstats.js';

const redis = await startRedis(t);
const http = agent(32);
t.teardown(() => http.close());
const LONG_TTL = '600000';
const { body, msUntil } = proxyReads(http);

/** Ids of the Redis connections named `name`, oldest first. */
async function clientIds(name: string): Promise<string[]> {
  const lines = ((await redis.client.client('LIST')) as string).split('\n').filter((l) => l.includes(` name=${name} `));
  return lines.map((l) => /id=(\d+)/.exec(l)![1]!);
}

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
