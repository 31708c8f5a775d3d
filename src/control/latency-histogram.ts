/** The Redis GET latency histogram of /metrics, read from the shards' shared bucket counts. */
import { LATENCY_BUCKETS, Stat } from '../metrics/shard-stats.js';

/**
 * The Redis GET latency histogram, summed over the shards. prom-client's
 * Histogram can only `observe`, and observing happens in the workers, so
 * this metric hands the registry the shared bucket counts directly.
 */
export function latencyHistogram(shardStats: readonly Float64Array[]) {
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
        values.push({
          metricName: `${name}_bucket`,
          labels: { le: b < LATENCY_BUCKETS.length ? String(LATENCY_BUCKETS[b]) : '+Inf' },
          value: cumulative,
        });
      }
      const sum = (slot: number): number => shardStats.reduce((total, s) => total + s[slot]!, 0);
      values.push({ metricName: `${name}_sum`, labels: {}, value: sum(Stat.LatencySum) });
      values.push({ metricName: `${name}_count`, labels: {}, value: sum(Stat.LatencyCount) });
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
  };
}
