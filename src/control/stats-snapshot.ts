/**
 * `/stats.json`: the figures of every shard and acceptor at one moment, read
 * from the same shared memory that `/metrics` reads (`MetricSources`), plus
 * the settings an operator looks for first. Nothing is counted for it: it is
 * built on demand, on the main thread, by reading a few hundred numbers.
 *
 * Counters are totals since start (a replaced thread continues its
 * counters); the status page turns two snapshots into rates. The shape is
 * documented in docs/operations.md; fields are only ever added.
 */
import { backendSettings, type Config } from '../config.js';
import type { FileLoad } from '../hop/tasks.js';
import { PROTOCOLS } from '../hop/vocabulary.js';
import { AcceptorStat, HTTP_STATUSES, httpCounts, respCounts, shedCounts } from '../metrics/acceptor-stats.js';
import { Stat } from '../metrics/shard-stats.js';
import { threadCpuSeconds } from '../metrics/thread.js';
import { formatHostPort, type TrackingMode } from '../routing/backend-settings.js';
import { redactUrl } from '../redact.js';
import { RESP_STATUSES } from '../metrics/labels.js';
import { sum, type MetricSources } from './metrics.js';

/** Event-loop delay over the last second, seconds. */
export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
}

/** Per protocol (`http`, `resp`). */
export type ByProtocol = Record<(typeof PROTOCOLS)[number], number>;

/** One shard's figures: counters since start, gauges now. */
export interface ShardStatus {
  shard: number;
  /** Requests (MGET: keys) answered from the cache / not, all protocols; `coalesced` misses joined a fetch in flight. */
  hits: number;
  misses: number;
  coalesced: number;
  entries: number;
  bytes: number;
  evicted: number;
  expired: number;
  staleIfErrorServed: number;
  tooLarge: number;
  /** Requests handed to the shard and not answered yet (hits included), all acceptors together. */
  inflight: number;
  /** Requests waiting on Redis now: what MAX_INFLIGHT bounds. */
  waiting: number;
  /** Requests refused since start: all of them, misses past MAX_INFLIGHT, and those past the hand-off bound. */
  shed: number;
  shedMisses: number;
  shedQueue: number;
  /** Worker replaced after dying, since start; `attached` is false while a replacement starts. */
  restarts: number;
  attached: boolean;
  redisUp: boolean;
  /** Times the data connection was ready again after a loss, and keys read once more because of one. */
  redisReconnects: number;
  readsResent: number;
  trackingArmed: boolean;
  invalidatedKeys: number;
  invalidationFlushes: number;
  invalidationMessages: number;
  trackingRearms: number;
  loopDelay: LoopDelay;
  /** CPU seconds of the thread (Linux only; null elsewhere or while it is being replaced). */
  cpuSeconds: number | null;
}

/** One acceptor's figures (acceptor 0 is the main thread). */
export interface AcceptorStatus {
  acceptor: number;
  listening: boolean;
  restarts: number;
  /** HTTP answers by status class. */
  http: { '2xx': number; '3xx': number; '4xx': number; '5xx': number };
  /** RESP commands by outcome (as `shardcache_requests_total{protocol="resp"}`). */
  resp: Record<(typeof RESP_STATUSES)[number], number>;
  /** Connections open now, accepted since start, and refused by MAX_CONNECTIONS. */
  connections: ByProtocol;
  accepted: ByProtocol;
  refused: ByProtocol;
  loopDelay: LoopDelay;
  cpuSeconds: number | null;
}

/** The settings shown beside the figures; nothing secret (the Redis password is redacted). */
export interface StatusSettings {
  shards: number;
  acceptors: number;
  cacheCapacity: number;
  /** 0: no byte limit. */
  cacheMaxBytes: number;
  cacheTtlMs: number;
  invalidation: 'tracking' | 'ttl';
  trackingMode: TrackingMode;
  negativeTtlMs: number;
  staleIfErrorMs: number;
  maxValueBytes: number;
  maxInflight: number;
  maxConnections: number;
  redis: { mode: string; address: string };
  /** The data listeners as bound (`resp` null when RESP_PORT is off). */
  listen: { http: string; resp: string | null };
}

/** The whole of `/stats.json`. */
export interface StatsSnapshot {
  version: string;
  node: string;
  pid: number;
  /** When this snapshot was taken and when the process started (ms since the epoch), and seconds between. */
  now: number;
  startedAt: number;
  uptimeSeconds: number;
  /** Why the proxy is not ready (as `/readyz`); empty when it is. */
  problems: string[];
  settings: StatusSettings;
  /** Redis's tracking table as shard 0 last read it (the fullest master's on a cluster); null while unknown, `maxKeys` 0: no limit. */
  trackingTable: { keys: number | null; maxKeys: number | null };
  shards: ShardStatus[];
  acceptors: AcceptorStatus[];
  /** The files loaded from settings (ACCESS_FILE, …): when each was last loaded, and the last SIGHUP's problem with it. */
  files: FileLoad[];
}

/** What the snapshot knows besides the shared memory. */
export interface SnapshotFacts {
  version: string;
  startedAt: number;
  settings: StatusSettings;
  problems: () => string[];
  /** Whether shard `i` has a worker linked to acceptor 0 (false while it is replaced). */
  attached: (shard: number) => boolean;
  /** The files loaded from settings, as the last SIGHUP left them; absent: none. */
  files?: () => FileLoad[];
}

/** The settings of `config` worth showing, with the listeners as bound. */
export function statusSettings(config: Config, listen: StatusSettings['listen']): StatusSettings {
  return {
    shards: config.shards,
    acceptors: config.acceptors,
    cacheCapacity: config.cacheCapacity,
    cacheMaxBytes: config.cacheMaxBytes,
    cacheTtlMs: config.cacheTtlMs,
    invalidation: config.invalidation,
    trackingMode: config.trackingMode,
    negativeTtlMs: config.negativeTtlMs,
    staleIfErrorMs: config.staleIfErrorMs,
    maxValueBytes: config.maxValueBytes,
    maxInflight: config.maxInflight,
    maxConnections: config.maxConnections,
    // Cluster and sentinel modes: the nodes or sentinels (REDIS_URL gives only their credentials there).
    redis: {
      mode: config.redisMode,
      address: config.redisMode === 'standalone' ? redactUrl(config.redisUrl) : backendSettings(config).nodes.map(formatHostPort).join(','),
    },
    listen,
  };
}

/** A figure read from Redis: null while unknown (-1, or no shard). */
const known = (value: number | undefined): number | null => (value === undefined || value < 0 ? null : value);
const loopDelay = (s: Float64Array, at: number): LoopDelay => ({ p50: s[at]!, p99: s[at + 1]!, max: s[at + 2]! });
const cpu = (tid: number): number | null => threadCpuSeconds(tid) ?? null;
const byProtocol = (s: Float64Array, at: number): ByProtocol => ({ http: s[at]!, resp: s[at + 1]! });
/** A per-protocol counter of a shard, summed over the protocols. */
const allProtocols = (s: Float64Array, at: number): number => PROTOCOLS.reduce((t, _, p) => t + s[at + p]!, 0);

/** Reads every figure now. */
export function takeSnapshot(src: MetricSources, facts: SnapshotFacts): StatsSnapshot {
  const now = Date.now();
  const shed = sum(src.acceptorStats.map(shedCounts));
  return {
    version: facts.version,
    node: process.version,
    pid: process.pid,
    now,
    startedAt: facts.startedAt,
    uptimeSeconds: (now - facts.startedAt) / 1000,
    problems: facts.problems(),
    settings: facts.settings,
    trackingTable: { keys: known(src.shardStats[0]?.[Stat.TrackingKeys]), maxKeys: known(src.shardStats[0]?.[Stat.TrackingTableMaxKeys]) },
    shards: src.shardStats.map((s, i) => ({
      shard: i,
      hits: allProtocols(s, Stat.Hits),
      misses: allProtocols(s, Stat.Misses),
      coalesced: allProtocols(s, Stat.Coalesced),
      entries: s[Stat.Entries]!,
      bytes: s[Stat.Bytes]!,
      evicted: s[Stat.Evicted]!,
      expired: s[Stat.Expired]!,
      staleIfErrorServed: s[Stat.StaleIfErrorServed]!,
      tooLarge: s[Stat.TooLarge]!,
      inflight: src.inflight[i]!,
      waiting: s[Stat.Waiting]!,
      shed: s[Stat.ShedMisses]! + shed[i]!,
      shedMisses: s[Stat.ShedMisses]!,
      shedQueue: shed[i]!,
      restarts: src.shardRestarts[i]!,
      attached: facts.attached(i),
      redisUp: s[Stat.RedisUp] === 1,
      redisReconnects: s[Stat.RedisReconnects]!,
      readsResent: s[Stat.ReadsResent]!,
      trackingArmed: s[Stat.TrackingArmed] === 1,
      invalidatedKeys: s[Stat.InvalidatedKeys]!,
      invalidationFlushes: s[Stat.InvalidationFlushes]!,
      invalidationMessages: s[Stat.InvalidationMessages]!,
      trackingRearms: s[Stat.TrackingRearms]!,
      loopDelay: loopDelay(s, Stat.LoopP50),
      cpuSeconds: cpu(s[Stat.Tid]!),
    })),
    acceptors: src.acceptorStats.map((s, i) => ({
      acceptor: i,
      listening: s[AcceptorStat.Listening] === 1,
      restarts: src.acceptorRestarts[i]!,
      http: httpByClass(httpCounts(s)),
      resp: respByOutcome(respCounts(s)),
      connections: byProtocol(s, AcceptorStat.Connections),
      accepted: byProtocol(s, AcceptorStat.Accepted),
      refused: byProtocol(s, AcceptorStat.Refused),
      loopDelay: loopDelay(s, AcceptorStat.LoopP50),
      cpuSeconds: cpu(s[AcceptorStat.Tid]!),
    })),
    files: facts.files?.() ?? [],
  };
}

/** HTTP counts (`[method * HTTP_STATUSES + status]`) by status class; every counted status is 200–599. */
function httpByClass(counts: Float64Array): AcceptorStatus['http'] {
  const classes = [0, 0, 0, 0, 0, 0];
  for (let i = 0; i < counts.length; i++) classes[Math.floor((i % HTTP_STATUSES) / 100)]! += counts[i]!;
  return { '2xx': classes[2]!, '3xx': classes[3]!, '4xx': classes[4]!, '5xx': classes[5]! };
}

/** RESP counts (`[command * RESP_STATUSES.length + outcome]`) by outcome. */
function respByOutcome(counts: Float64Array): AcceptorStatus['resp'] {
  const out = Object.fromEntries(RESP_STATUSES.map((name) => [name, 0])) as AcceptorStatus['resp'];
  for (let i = 0; i < counts.length; i++) out[RESP_STATUSES[i % RESP_STATUSES.length]!] += counts[i]!;
  return out;
}

/**
 * `/stats.json` as text, built at most once per `maxAgeMs`: however many
 * pages poll it, the main thread (acceptor 0) builds about one a second
 * at their pace, never one per viewer.
 */
export function snapshotJson(src: MetricSources, facts: SnapshotFacts, maxAgeMs = 250): () => string {
  let text = '';
  let at = -Infinity;
  return () => {
    const now = performance.now();
    if (now - at >= maxAgeMs) {
      text = JSON.stringify(takeSnapshot(src, facts));
      at = now;
    }
    return text;
  };
}
