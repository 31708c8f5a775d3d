/**
 * The figures /metrics reads straight from the shards' stats arrays, as
 * tables: one row a metric (name, slot, help), so that adding a figure is a
 * row here and a slot in metrics/shard-stats.ts. control/metrics.ts turns
 * each row into a prom-client counter or gauge.
 */
import { Stat } from '../metrics/shard-stats.js';

/** Per-protocol counters of the shards' stats arrays (`slot + protocol`): name, first slot, help. */
// biome-ignore format: a table, one figure a line
export const PROTOCOL_FIGURES: readonly (readonly [string, number, string])[] = [
  ['shardcache_cache_hits_total', Stat.Hits, 'Requests (MGET: keys) answered from the cache, by protocol'],
  ['shardcache_cache_misses_total', Stat.Misses, 'Requests (MGET: keys) not answered from the cache (fetched, or joined a fetch), by protocol'],
  ['shardcache_cache_coalesced_total', Stat.Coalesced, 'Misses that joined a GET already in flight instead of sending their own, by protocol'],
];

/** The other per-shard figures read from the shards' stats arrays: kind, name, slot, help. */
// biome-ignore format: a table, one figure a line
export const SHARD_FIGURES: readonly (readonly ['counter' | 'gauge', string, number, string])[] = [
  ['counter', 'shardcache_cache_expired_total', Stat.Expired, 'Reads that found their entry past CACHE_TTL_MS'],
  ['counter', 'shardcache_cache_evicted_total', Stat.Evicted, 'Entries evicted to make room under CACHE_CAPACITY or CACHE_MAX_BYTES (least recently used)'],
  ['counter', 'shardcache_stale_if_error_served_total', Stat.StaleIfErrorServed, 'Expired entries served because Redis failed, or a miss was refused past MAX_INFLIGHT (STALE_IF_ERROR_MS)'],
  ['counter', 'shardcache_refreshes_started_total', Stat.RefreshesStarted, 'Background fetches started to refresh a cached entry (STALE_WHILE_REVALIDATE_MS, or early refresh before expiry)'],
  ['counter', 'shardcache_refreshes_failed_total', Stat.RefreshesFailed, 'Background refreshes that Redis failed (the old entry stays within its windows)'],
  ['counter', 'shardcache_stale_while_revalidate_served_total', Stat.StaleWhileRevalidateServed, 'Answers given from an entry past CACHE_TTL_MS within STALE_WHILE_REVALIDATE_MS, while it was refreshed'],
  ['counter', 'shardcache_too_large_total', Stat.TooLarge, 'Values over MAX_VALUE_BYTES (or over the shard\'s share of CACHE_MAX_BYTES), served without being cached; and the typed commands forwarded to Redis one by one for a key whose value is over MAX_VALUE_BYTES'],
  ['gauge', 'shardcache_cache_entries', Stat.Entries, 'Entries held in the cache'],
  ['gauge', 'shardcache_cache_bytes', Stat.Bytes, 'Bytes the cache holds: values, keys, per-entry metadata and the index (what CACHE_MAX_BYTES bounds)'],
  ['gauge', 'shardcache_redis_up', Stat.RedisUp, '1 while the shard has a ready Redis connection (a cluster: a ready cluster client)'],
  ['gauge', 'shardcache_redis_nodes', Stat.RedisNodes, 'Redis servers the shard reads from: the cluster masters, or 1'],
  ['gauge', 'shardcache_redis_nodes_up', Stat.RedisNodesUp, 'Of shardcache_redis_nodes, those with a ready connection now'],
  ['counter', 'shardcache_redis_reconnects_total', Stat.RedisReconnects, 'Times the shard\'s data connection (a cluster: its cluster client) was ready again after it was lost'],
  ['counter', 'shardcache_redis_reads_resent_total', Stat.ReadsResent, 'Keys read once more because their Redis connection dropped before the answer (within REDIS_TIMEOUT_MS of the first send)'],
  ['counter', 'shardcache_topology_flushes_total', Stat.TopologyFlushes, 'Cache flushes because cluster slots changed masters (failover, resharding)'],
  ['counter', 'shardcache_tracking_rearms_total', Stat.TrackingRearms, 'Times client tracking was armed again after the invalidation link was lost (the cache was flushed)'],
  ['counter', 'shardcache_invalidation_messages_total', Stat.InvalidationMessages, 'Invalidation messages from Redis client tracking (one names one key or more; with TRACKING_MODE=bcast Redis sends every write under the prefix, and batches the keys of one event-loop turn)'],
  ['gauge', 'shardcache_tracking_armed', Stat.TrackingArmed, '1 while client tracking is armed; 0 while the link is down, and with INVALIDATION=ttl'],
];
