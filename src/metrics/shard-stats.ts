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

/** Slot of each figure in a shard's stats array. */
export const Stat = {
  Hits: 0,
  Misses: 1,
  Coalesced: 2,
  Expired: 3,
  Evicted: 4,
  /** Gauge: entries held now. */
  Entries: 5,
  /** Gauge: bytes of cached values held now. */
  Bytes: 6,
  /** Expired entries served because Redis failed (STALE_IF_ERROR_MS). */
  StaleServed: 7,
  /** Values larger than MAX_VALUE_BYTES: served, not cached. */
  TooLarge: 8,
  /** Gauge: 1 while the shard's Redis connection is ready. */
  RedisUp: 9,
  /** Event-loop delay over the last window, seconds: median, 99th percentile, maximum. */
  LoopP50: 10,
  LoopP99: 11,
  LoopMax: 12,
  /** Redis GET latency: sum of seconds, count, then one slot per bucket of `LATENCY_BUCKETS` plus +Inf. */
  LatencySum: 13,
  LatencyCount: 14,
  LatencyBuckets: 15,
} as const;

/** Upper bounds (seconds) of the Redis latency histogram buckets. */
export const LATENCY_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

const SLOTS = Stat.LatencyBuckets + LATENCY_BUCKETS.length + 1;

/** A zeroed stats array over a new SharedArrayBuffer. */
export function newShardStats(): Float64Array {
  return new Float64Array(new SharedArrayBuffer(SLOTS * Float64Array.BYTES_PER_ELEMENT));
}

/** Records one Redis round trip of `seconds`. */
export function observeLatency(stats: Float64Array, seconds: number): void {
  let b = 0;
  while (b < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[b]!) b++;
  stats[Stat.LatencyBuckets + b]!++;
  stats[Stat.LatencySum]! += seconds;
  stats[Stat.LatencyCount]!++;
}
