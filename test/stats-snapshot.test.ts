/**
 * /stats.json from the shared-memory layouts: every figure lands where the
 * page reads it, acceptors' counts are summed or classed as /metrics does,
 * and the JSON is rebuilt at most once per interval however often it is read.
 */
import t from 'tap';
import { loadConfig, type Config } from '../src/config.js';
import { snapshotJson, statusSettings, takeSnapshot } from '../src/control/stats-snapshot.js';
import { AcceptorStat, HTTP_STATUSES, httpCounts, respCounts, shedCounts } from '../src/metrics/acceptor-stats.js';
import { Stat } from '../src/metrics/shard-stats.js';
import { nameThread } from '../src/metrics/thread.js';
import { RESP_STATUSES } from '../src/metrics/labels.js';
import { facts, sources } from './helpers/snapshot.js';
import { sleep } from './helpers/time.js';

t.test('shard figures: per-protocol counters summed, gauges and flags as written', async (t) => {
  const src = sources(2, 2);
  const s1 = src.shardStats[1]!;
  s1[Stat.Hits] = 7; // http
  s1[Stat.Hits + 1] = 3; // resp
  s1[Stat.Misses] = 4;
  s1[Stat.Misses + 1] = 1;
  s1[Stat.Coalesced + 1] = 2;
  s1[Stat.Entries] = 11;
  s1[Stat.Bytes] = 2048;
  s1[Stat.Evicted] = 5;
  s1[Stat.Expired] = 6;
  s1[Stat.StaleIfErrorServed] = 1;
  s1[Stat.TooLarge] = 2;
  s1[Stat.RedisUp] = 1;
  s1[Stat.RedisReconnects] = 3;
  s1[Stat.ReadsResent] = 12;
  s1[Stat.TrackingArmed] = 1;
  s1[Stat.InvalidatedKeys] = 9;
  s1[Stat.InvalidationFlushes] = 1;
  s1[Stat.InvalidationMessages] = 7;
  s1[Stat.TrackingRearms] = 1;
  s1[Stat.LoopP50] = 0.001;
  s1[Stat.LoopP99] = 0.004;
  s1[Stat.LoopMax] = 0.02;
  s1[Stat.Tid] = nameThread('stats-test');
  src.inflight[1] = 3;
  src.shardRestarts[1] = 2;
  // Shed counts are kept per acceptor and summed per shard.
  shedCounts(src.acceptorStats[0]!)[1] = 4;
  shedCounts(src.acceptorStats[1]!)[1] = 5;
  s1[Stat.ShedMisses] = 6;
  s1[Stat.Waiting] = 2;
  const snap = takeSnapshot(src, facts({ attached: (i) => i === 1 }));
  t.same(snap.shards[1], {
    shard: 1,
    hits: 10,
    misses: 5,
    coalesced: 2,
    entries: 11,
    bytes: 2048,
    evicted: 5,
    expired: 6,
    staleIfErrorServed: 1,
    tooLarge: 2,
    inflight: 3,
    waiting: 2,
    shed: 15,
    shedMisses: 6,
    shedQueue: 9,
    restarts: 2,
    attached: true,
    redisUp: true,
    redisReconnects: 3,
    readsResent: 12,
    trackingArmed: true,
    invalidatedKeys: 9,
    invalidationFlushes: 1,
    invalidationMessages: 7,
    trackingRearms: 1,
    loopDelay: { p50: 0.001, p99: 0.004, max: 0.02 },
    cpuSeconds: snap.shards[1]!.cpuSeconds,
  });
  t.type(snap.shards[1]!.cpuSeconds, 'number', "this thread's CPU time is read from /proc");
  t.same(
    [snap.shards[0]!.attached, snap.shards[0]!.redisUp, snap.shards[0]!.cpuSeconds],
    [false, false, null],
    'shard 0: not attached, Redis down, no thread id',
  );
});

t.test('acceptor figures: HTTP by status class, RESP by outcome, connections by protocol', async (t) => {
  const src = sources(2, 1);
  const a = src.acceptorStats[1]!;
  const http = httpCounts(a);
  const row = (method: number, status: number): number => method * HTTP_STATUSES + status;
  http[row(0, 200)] = 10;
  http[row(1, 204)] = 2; // HEAD
  http[row(0, 304)] = 3;
  http[row(0, 404)] = 4;
  http[row(2, 405)] = 1; // other methods
  http[row(0, 503)] = 6;
  const resp = respCounts(a);
  const at = (command: number, outcome: string): number =>
    command * RESP_STATUSES.length + RESP_STATUSES.indexOf(outcome as (typeof RESP_STATUSES)[number]);
  resp[at(0, 'ok')] = 5;
  resp[at(3, 'ok')] = 2;
  resp[at(3, 'nil')] = 1;
  resp[at(4, 'shed')] = 7;
  resp[at(5, 'error')] = 8;
  a[AcceptorStat.Connections] = 3;
  a[AcceptorStat.Connections + 1] = 1;
  a[AcceptorStat.Accepted] = 30;
  a[AcceptorStat.Accepted + 1] = 10;
  a[AcceptorStat.Refused + 1] = 2;
  a[AcceptorStat.Listening] = 1;
  src.acceptorRestarts[1] = 1;
  const snap = takeSnapshot(src, facts());
  t.same(snap.acceptors[1], {
    acceptor: 1,
    listening: true,
    restarts: 1,
    http: { '2xx': 12, '3xx': 3, '4xx': 5, '5xx': 6 },
    resp: { nil: 1, ok: 7, shed: 7, error: 8 },
    connections: { http: 3, resp: 1 },
    accepted: { http: 30, resp: 10 },
    refused: { http: 0, resp: 2 },
    loopDelay: { p50: 0, p99: 0, max: 0 },
    cpuSeconds: null,
  });
  t.equal(snap.acceptors[0]!.listening, false);
});

t.test('process facts: version, uptime, readiness reasons, settings', async (t) => {
  const snap = takeSnapshot(sources(1, 1), facts({ startedAt: Date.now() - 90_000, problems: () => ['shard 0: redis down'] }));
  t.equal(snap.version, '9.9.9');
  t.equal(snap.node, process.version);
  t.equal(snap.pid, process.pid);
  t.ok(snap.uptimeSeconds >= 90 && snap.uptimeSeconds < 95, `uptime ${snap.uptimeSeconds} s`);
  t.same(snap.problems, ['shard 0: redis down']);
});

t.test('settings: taken from the configuration, the Redis password redacted', async (t) => {
  const config = loadConfig(
    { REDIS_URL: 'redis://app:hunter2@cache.internal:6390/3', SHARDS: '3', ACCEPTORS: '1', CACHE_MAX_BYTES: '64m', INVALIDATION: 'ttl' },
    [],
  ) as Config;
  const s = statusSettings(config, { http: 'http://127.0.0.1:1', resp: null });
  t.same(s.redis, { mode: 'standalone', address: 'redis://app:***@cache.internal:6390/3' });
  t.notMatch(JSON.stringify(s), /hunter2/);
  t.same([s.shards, s.acceptors, s.cacheMaxBytes, s.invalidation, s.listen.resp], [3, 1, 64 * 1024 * 1024, 'ttl', null]);
});

t.test('settings: a cluster or sentinels are shown by their nodes, the mode named', async (t) => {
  const cluster = loadConfig({ REDIS_CLUSTER_NODES: 'a:7000,[::1]:7001', REDIS_URL: 'rediss://app:hunter2@ignored:1' }, []) as Config;
  t.same(statusSettings(cluster, { http: 'http://x', resp: null }).redis, { mode: 'cluster', address: 'a:7000,[::1]:7001' });
  const sentinel = loadConfig({ REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'main' }, []) as Config;
  t.same(statusSettings(sentinel, { http: 'http://x', resp: null }).redis, { mode: 'sentinel', address: 's:26379' });
});

t.test('snapshotJson: built once per interval however often it is read, then rebuilt', async (t) => {
  const src = sources(1, 1);
  let builds = 0;
  const json = snapshotJson(
    src,
    facts({
      problems: () => {
        builds++;
        return [];
      },
    }),
    40,
  );
  const first = json();
  src.shardStats[0]![Stat.Entries] = 42;
  t.ok(
    Array.from({ length: 100 }, json).every((text) => text === first),
    'the same text for 100 reads within the interval',
  );
  t.equal(builds, 1);
  await sleep(50);
  t.equal((JSON.parse(json()) as { shards: { entries: number }[] }).shards[0]!.entries, 42, 'the new figure after it');
  t.equal(builds, 2);
});
