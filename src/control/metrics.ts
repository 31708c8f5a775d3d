/**
 * The Prometheus metrics, built with prom-client at scrape time from plain
 * numbers the hot path already keeps: the front ends' request counts, the
 * dispatcher's in-flight and shed counts, the pool's restart counts, and
 * each shard's stats array in shared memory. Nothing here runs per request.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';
import { PROTOCOLS } from '../hop/wire.js';
import { LATENCY_BUCKETS, Stat } from '../metrics/shard-stats.js';

/** One front end's request counts: `counts[command * statuses.length + status]`, by label index. */
export interface RequestCounts {
  protocol: (typeof PROTOCOLS)[number];
  counts: Float64Array;
  /** `command` label of each row (HTTP: the method). */
  commands: readonly string[];
  /** `status` label of each column (HTTP: the status code; RESP: the outcome). */
  statuses: readonly string[];
}

/** Where the figures live; each field is read only when /metrics is scraped. */
export interface MetricSources {
  /** Per front end (HTTP, and RESP when it listens). */
  requests: readonly RequestCounts[];
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

/** Per-protocol counters of the shards' stats arrays (`slot + protocol`): name, first slot, help. */
const PROTOCOL_FIGURES: readonly (readonly [string, number, string])[] = [
  ['shardcache_cache_hits_total', Stat.Hits, 'Requests (MGET: keys) answered from the cache, by protocol'],
  ['shardcache_cache_misses_total', Stat.Misses, 'Requests (MGET: keys) not answered from the cache (fetched, or joined a fetch), by protocol'],
  ['shardcache_cache_coalesced_total', Stat.Coalesced, 'Misses that joined a GET already in flight instead of sending their own, by protocol'],
];

/** The other per-shard figures read from the shards' stats arrays: kind, name, slot, help. */
const SHARD_FIGURES: readonly (readonly ['counter' | 'gauge', string, number, string])[] = [
  ['counter', 'shardcache_cache_expired_total', Stat.Expired, 'Reads that found their entry past CACHE_TTL_MS'],
  ['counter', 'shardcache_cache_evicted_total', Stat.Evicted, 'Entries evicted to make room under CACHE_CAPACITY or CACHE_MAX_BYTES (least recently used)'],
  ['counter', 'shardcache_stale_served_total', Stat.StaleServed, 'Expired entries served because Redis failed (STALE_IF_ERROR_MS)'],
  ['counter', 'shardcache_too_large_total', Stat.TooLarge, 'Values over MAX_VALUE_BYTES (or over the shard\'s share of CACHE_MAX_BYTES), served without being cached'],
  ['gauge', 'shardcache_cache_entries', Stat.Entries, 'Entries held in the cache'],
  ['gauge', 'shardcache_cache_bytes', Stat.Bytes, 'Bytes of cached values held'],
  ['gauge', 'shardcache_redis_up', Stat.RedisUp, '1 while the shard has a ready Redis connection (a cluster: a ready cluster client)'],
  ['gauge', 'shardcache_redis_nodes', Stat.RedisNodes, 'Redis servers the shard reads from: the cluster masters, or 1'],
  ['gauge', 'shardcache_redis_nodes_up', Stat.RedisNodesUp, 'Of shardcache_redis_nodes, those with a ready connection now'],
  ['counter', 'shardcache_topology_flushes_total', Stat.TopologyFlushes, 'Cache flushes because cluster slots changed masters (failover, resharding)'],
  ['counter', 'shardcache_tracking_rearms_total', Stat.TrackingRearms, 'Times client tracking was armed again after the invalidation link was lost (the cache was flushed)'],
  ['gauge', 'shardcache_tracking_armed', Stat.TrackingArmed, '1 while client tracking is armed; 0 while the link is down, and with INVALIDATION=ttl'],
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
  /** Per shard, one sample for each `[label value, slot]`. */
  const bySlots = (label: string, slots: readonly (readonly [string, number])[]) => (emit: Emit) =>
    src.shardStats.forEach((s, i) => slots.forEach(([value, slot]) => emit({ shard: String(i), [label]: value }, s[slot]!)));

  metric('counter', 'shardcache_requests_total', 'Requests answered, by protocol, command (HTTP: method) and status (HTTP: status code; RESP: nil, ok, shed or error)', ['protocol', 'command', 'status'], (emit) => {
    for (const { protocol, counts, commands, statuses } of src.requests) {
      for (let i = 0; i < counts.length; i++) {
        if (counts[i]! > 0) emit({ protocol, command: commands[Math.floor(i / statuses.length)]!, status: statuses[i % statuses.length]! }, counts[i]!);
      }
    }
  });
  for (const [name, slot, help] of PROTOCOL_FIGURES) metric('counter', name, help, ['shard', 'protocol'], bySlots('protocol', PROTOCOLS.map((protocol, p) => [protocol, slot + p])));
  for (const [kind, name, slot, help] of SHARD_FIGURES) metric(kind, name, help, ['shard'], fromStats(slot));
  metric('counter', 'shardcache_invalidations_total', 'Invalidations from Redis client tracking: keys named by messages (kind="key"), null messages that emptied the cache (kind="flush": FLUSHALL, FLUSHDB)', ['shard', 'kind'], bySlots('kind', [['key', Stat.InvalidatedKeys], ['flush', Stat.InvalidationFlushes]]));
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
