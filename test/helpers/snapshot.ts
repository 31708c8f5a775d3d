/** Shared-memory figures and snapshots for the status page's unit tests, built through the real layouts. */
import type { MetricSources } from '../../src/control/metrics.js';
import type { SnapshotFacts, StatusSettings } from '../../src/control/stats-snapshot.js';
import { newOwnInflight } from '../../src/hop/shared.js';
import { newAcceptorStats } from '../../src/metrics/acceptor-stats.js';
import { newShardStats } from '../../src/metrics/shard-stats.js';

/** Zeroed sources for `acceptors` × `shards`, as the supervisor would hand to /metrics. */
export function sources(acceptors: number, shards: number, resp = true): MetricSources {
  return {
    acceptorStats: Array.from({ length: acceptors }, () => newAcceptorStats(shards)),
    acceptorRestarts: new Float64Array(acceptors),
    resp,
    inflight: newOwnInflight(shards),
    shardStats: Array.from({ length: shards }, newShardStats),
    shardRestarts: new Float64Array(shards),
    info: { version: 'test', invalidation: 'tracking', redis_mode: 'standalone', tracking_mode: 'default' },
  };
}

/** Settings as `statusSettings` would give them, with `over` changed. */
export function settings(over: Partial<StatusSettings> = {}): StatusSettings {
  return {
    shards: 2,
    acceptors: 2,
    cacheCapacity: 100000,
    cacheMaxBytes: 0,
    cacheTtlMs: 30000,
    invalidation: 'tracking',
    trackingMode: 'default',
    negativeTtlMs: 0,
    staleIfErrorMs: 0,
    maxValueBytes: 1048576,
    maxInflight: 1000,
    maxConnections: 10000,
    redis: { mode: 'standalone', address: 'redis://127.0.0.1:6379' },
    listen: { http: 'http://127.0.0.1:8080', resp: 'redis://127.0.0.1:6380' },
    ...over,
  };
}

/** Facts for a snapshot: ready, every shard attached, unless told otherwise. */
export function facts(over: Partial<SnapshotFacts> = {}): SnapshotFacts {
  return { version: '9.9.9', startedAt: Date.now() - 3_723_000, settings: settings(), problems: () => [], attached: () => true, ...over };
}
