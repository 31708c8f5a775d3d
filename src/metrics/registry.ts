/**
 * The Prometheus metrics, built with prom-client at scrape time from plain
 * numbers the hot path already keeps: the front end's status counts, the
 * dispatcher's in-flight and shed counts, the pool's restart counts, and
 * each shard's stats array in shared memory. Nothing here runs per request.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';
import { LATENCY_BUCKETS, Stat } from './shard-stats.js';

/** Where the figures live; each field is read only when /metrics is scraped. */
export interface MetricSources {
  /** Requests by method and status: `counts[method * statuses + status]`. */
  counts: Float64Array;
  methods: readonly string[];
  statuses: number;
  /** Per shard. */
  inflightOf: Int32Array;
  shed: Float64Array;
  restarts: Float64Array;
  /** Per shard, `Stat` slots. */
  shardStats: readonly Float64Array[];
  /** The main thread's event-loop delay: median, p99, max (seconds). */
  mainLoop: Float64Array;
}

type Emit = (labels: Record<string, string>, value: number) => void;

/** The per-shard figures read from the shards' stats arrays: kind, name, slot, help. */
const SHARD_FIGURES: readonly (readonly ['counter' | 'gauge', string, number, string])[] = [
  ['counter', 'shardcache_cache_hits_total', Stat.Hits, 'Requests answered from the cache'],
  ['counter', 'shardcache_cache_misses_total', Stat.Misses, 'Requests not answered from the cache (fetched, or joined a fetch)'],
  ['counter', 'shardcache_cache_coalesced_total', Stat.Coalesced, 'Misses that joined a GET already in flight instead of sending their own'],
  ['counter', 'shardcache_cache_expired_total', Stat.Expired, 'Reads that found their entry past CACHE_TTL_MS'],
  ['counter', 'shardcache_cache_evicted_total', Stat.Evicted, 'Entries evicted to make room (least recently used)'],
  ['counter', 'shardcache_stale_served_total', Stat.StaleServed, 'Expired entries served because Redis failed (STALE_IF_ERROR_MS)'],
  ['counter', 'shardcache_too_large_total', Stat.TooLarge, 'Values over MAX_VALUE_BYTES, served without being cached'],
  ['gauge', 'shardcache_cache_entries', Stat.Entries, 'Entries held in the cache'],
  ['gauge', 'shardcache_cache_bytes', Stat.Bytes, 'Bytes of cached values held'],
  ['gauge', 'shardcache_redis_up', Stat.RedisUp, '1 while the shard has a ready Redis connection'],
];

/** Builds the registry; `/metrics` answers `await registry.metrics()`. */
export function createMetrics(src: MetricSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  /** A counter or gauge whose samples are read from `read` at each scrape. */
  const metric = (kind: 'counter' | 'gauge', name: string, help: string, labelNames: string[], read: (emit: Emit) => void): void => {
    if (kind === 'counter') {
      new Counter({ name, help, labelNames, registers: [registry], collect() { this.reset(); read((labels, value) => this.inc(labels, value)); } });
    } else {
      new Gauge({ name, help, labelNames, registers: [registry], collect() { this.reset(); read((labels, value) => this.set(labels, value)); } });
    }
  };
  const perShard = (values: ArrayLike<number>) => (emit: Emit) => {
    for (let i = 0; i < values.length; i++) emit({ shard: String(i) }, values[i]!);
  };
  const fromStats = (slot: number) => (emit: Emit) => src.shardStats.forEach((s, i) => emit({ shard: String(i) }, s[slot]!));

  metric('counter', 'shardcache_http_requests_total', 'HTTP requests answered, by method and status', ['method', 'status'], (emit) => {
    for (let i = 0; i < src.counts.length; i++) {
      if (src.counts[i]! > 0) emit({ method: src.methods[Math.floor(i / src.statuses)]!, status: String(i % src.statuses) }, src.counts[i]!);
    }
  });
  for (const [kind, name, slot, help] of SHARD_FIGURES) metric(kind, name, help, ['shard'], fromStats(slot));
  metric('gauge', 'shardcache_inflight_requests', 'Requests sent to the shard and not answered yet', ['shard'], perShard(src.inflightOf));
  metric('counter', 'shardcache_shed_total', 'Requests refused with 503 because the shard had MAX_INFLIGHT in flight', ['shard'], perShard(src.shed));
  metric('counter', 'shardcache_shard_restarts_total', 'Shard workers that died and were replaced', ['shard'], perShard(src.restarts));
  metric('gauge', 'shardcache_event_loop_delay_seconds', 'Event-loop delay over the last second, per thread', ['thread', 'quantile'], (emit) => {
    const threads: [string, ArrayLike<number>, number][] = [['main', src.mainLoop, 0], ...src.shardStats.map((s, i): [string, Float64Array, number] => [`shard-${i}`, s, Stat.LoopP50])];
    for (const [thread, values, at] of threads) {
      emit({ thread, quantile: '0.5' }, values[at]!);
      emit({ thread, quantile: '0.99' }, values[at + 1]!);
      emit({ thread, quantile: '1' }, values[at + 2]!);
    }
  });
  registry.registerMetric(latencyHistogram(src.shardStats) as unknown as Metric);
  return registry;
}

/**
 * The Redis GET latency histogram, summed over the shards. prom-client's
 * Histogram can only `observe`, and observing happens in the workers, so
 * this metric hands the registry the shared bucket counts directly.
 */
function latencyHistogram(shardStats: readonly Float64Array[]) {
  const name = 'shardcache_redis_command_duration_seconds';
  const help = 'Time from sending a Redis GET to its reply or failure, all shards';
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    reset() {},
    get() {
      const values: { metricName: string; labels: Record<string, string>; value: number }[] = [];
      let cumulative = 0;
      for (let b = 0; b <= LATENCY_BUCKETS.length; b++) {
        for (const s of shardStats) cumulative += s[Stat.LatencyBuckets + b]!;
        values.push({ metricName: `${name}_bucket`, labels: { le: b < LATENCY_BUCKETS.length ? String(LATENCY_BUCKETS[b]) : '+Inf' }, value: cumulative });
      }
      const sum = (slot: number): number => shardStats.reduce((total, s) => total + s[slot]!, 0);
      values.push({ metricName: `${name}_sum`, labels: {}, value: sum(Stat.LatencySum) });
      values.push({ metricName: `${name}_count`, labels: {}, value: sum(Stat.LatencyCount) });
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
  };
}
