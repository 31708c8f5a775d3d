/**
 * A shard's counters, shared with the main thread through one
 * SharedArrayBuffer per shard: the worker writes plain numbers into it as it
 * works, and the main thread reads them only when `/metrics` is scraped. No
 * message per request, no lock.
 *
 * Float64 slots, not Int32: counters pass 2^31 within hours at full speed,
 * and a double holds every integer up to 2^53 exactly. Each slot has one
 * writer (its shard's thread); an aligned 8-byte store does not tear on the
 * 64-bit platforms Node runs on, so a reader sees either the old value or the
 * new one.
 */
import { PROTOCOLS } from '../hop/vocabulary.js';
import { TYPED_FAMILIES } from './labels.js';

/** Counters kept per protocol take one slot per `Protocol`: `Stat.Hits + protocol`. */
const P = PROTOCOLS.length;
/** Typed-command counters take one slot per family. */
const F = TYPED_FAMILIES.length;
/** The first slot after the per-protocol counters. */
const AFTER = 3 * P;

/** Slot of each figure in a shard's stats array. */
export const Stat = {
  /** Per protocol: requests answered from the cache. */
  Hits: 0,
  /** Per protocol: requests not answered from the cache. */
  Misses: P,
  /** Per protocol: misses that joined a fetch already in flight. */
  Coalesced: 2 * P,
  Expired: AFTER,
  Evicted: AFTER + 1,
  /** Gauge: entries held now. */
  Entries: AFTER + 2,
  /** Gauge: bytes of cached values held now. */
  Bytes: AFTER + 3,
  /** Expired entries served because Redis failed (STALE_IF_ERROR_MS). */
  StaleIfErrorServed: AFTER + 4,
  /** Values larger than MAX_VALUE_BYTES: served, not cached. */
  TooLarge: AFTER + 5,
  /** Gauge: 1 while the shard's Redis connection is ready. */
  RedisUp: AFTER + 6,
  /** Event-loop delay over the last window, seconds: median, 99th percentile, maximum. */
  LoopP50: AFTER + 7,
  LoopP99: AFTER + 8,
  LoopMax: AFTER + 9,
  /** Keys named by invalidation messages (client tracking). */
  InvalidatedKeys: AFTER + 10,
  /** Null invalidation messages (FLUSHALL, FLUSHDB): the whole cache went. */
  InvalidationFlushes: AFTER + 11,
  /** Times tracking was armed again after the invalidation link was lost. */
  TrackingRearms: AFTER + 12,
  /** Gauge: 1 while client tracking is armed. */
  TrackingArmed: AFTER + 13,
  /** The shard thread's Linux thread id (0 where unknown), for its CPU time in /proc. */
  Tid: AFTER + 14,
  /** The shard thread's Node `threadId`, which names its `--cpu-prof` file. */
  ThreadId: AFTER + 15,
  /** Gauge: Redis servers the shard reads from (cluster: masters; otherwise 1). */
  RedisNodes: AFTER + 16,
  /** Gauge: of those, the ones whose connection is ready now. */
  RedisNodesUp: AFTER + 17,
  /** Flushes because cluster slots changed masters (failover, resharding). */
  TopologyFlushes: AFTER + 18,
  /** Background fetches started to refresh an entry: stale-while-revalidate or early (XFetch). */
  RefreshesStarted: AFTER + 19,
  /** Those that Redis failed (the old entry stays, within its windows). */
  RefreshesFailed: AFTER + 20,
  /** Answers given from an entry past its TTL, within STALE_WHILE_REVALIDATE_MS. */
  StaleWhileRevalidateServed: AFTER + 21,
  /** Invalidation messages received (one names one or more keys; a null one counts too). */
  InvalidationMessages: AFTER + 22,
  /** Gauge, shard 0 only: `tracking_total_keys` of Redis's fullest tracking table; -1 while unknown. */
  TrackingKeys: AFTER + 23,
  /** Gauge, shard 0 only: that server's `tracking-table-max-keys` (0: no limit); -1 while unknown. */
  TrackingTableMaxKeys: AFTER + 24,
  /** Misses refused because MAX_INFLIGHT requests were waiting on Redis (`MissLimit`). */
  ShedMisses: AFTER + 25,
  /** Gauge: requests waiting on Redis now, misses and the waiters on their flights. */
  Waiting: AFTER + 26,
  /** Keys read once more because their connection dropped before the answer (`resend.ts`). */
  ReadsResent: AFTER + 27,
  /** Times the data connection (a cluster: the cluster client) was ready again after a loss. */
  RedisReconnects: AFTER + 28,
  /** Per `TYPED_FAMILIES` (labels.ts): typed commands (HGET, LRANGE, …) answered from the cache. */
  TypedHits: AFTER + 29,
  /** Per `TYPED_FAMILIES`: typed commands that waited on a read of their key. */
  TypedMisses: AFTER + 29 + F,
  /** Redis GET latency: sum of seconds, count, then one slot per bucket of `LATENCY_BUCKETS` plus +Inf. */
  LatencySum: AFTER + 29 + 2 * F,
  LatencyCount: AFTER + 30 + 2 * F,
  LatencyBuckets: AFTER + 31 + 2 * F,
} as const;

/** Upper bounds (seconds) of the Redis latency histogram buckets. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

const SLOTS = Stat.LatencyBuckets + LATENCY_BUCKETS.length + 1;

/** A stats array over a new SharedArrayBuffer: zeroed, but for the figures read from Redis, unknown (-1) until read. */
export function newShardStats(): Float64Array {
  const stats = new Float64Array(new SharedArrayBuffer(SLOTS * Float64Array.BYTES_PER_ELEMENT));
  stats[Stat.TrackingKeys] = -1;
  stats[Stat.TrackingTableMaxKeys] = -1;
  return stats;
}

/** Records one Redis round trip of `seconds`. */
export function observeLatency(stats: Float64Array, seconds: number): void {
  let b = 0;
  while (b < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[b]!) b++;
  stats[Stat.LatencyBuckets + b]!++;
  stats[Stat.LatencySum]! += seconds;
  stats[Stat.LatencyCount]!++;
}
