/**
 * A shard's backing store, whatever the mode: opens the connections (one
 * standalone server, the master the sentinels name, or a cluster), gives the
 * shard its fetch functions, and keeps its cache coherent with client
 * tracking. The worker asks this one factory for everything Redis.
 *
 * | mode | data connection | fetches | coherence |
 * | --- | --- | --- | --- |
 * | standalone | `connectRedis(REDIS_URL)` | a batch's misses as one script (values and TTLs) | `Invalidation` |
 * | sentinel | `connectRedis` via the sentinels | the same script | `Invalidation` (subscriber via the sentinels too) |
 * | cluster | `connectCluster` | the script per key, one write per node | `ClusterTracking` (a link per node) |
 *
 * GET and MGET (`fetch`, `fetchMany`) remain for the comparison a test or
 * benchmark makes with the TTL read off (SHARDCACHE_TEST_NO_EXPIRY).
 */
import type { Cluster, Redis } from 'ioredis';
import type { Log } from '../log.js';
import { Stat } from '../metrics/shard-stats.js';
import type { Fetch, FetchMany, FetchWithLife } from './batch-fetch.js';
import type { Forward } from './forward.js';
import { forwardOn, turnCork } from './redis/forward.js';
import { connectCluster } from './redis/cluster.js';
import { ClusterTracking } from './invalidation/cluster-tracking.js';
import type { Coherence, InvalidationTarget } from './invalidation/coherence.js';
import { serverOptions } from './redis/endpoints.js';
import { describeBackend, type BackendSettings } from '../routing/backend-settings.js';
import { clusterFetchWithLife, redisFetchWithLife } from './redis/expiry-read.js';
import { Invalidation } from './invalidation/invalidation.js';
import { connectRedis, PING_MS, redisFetch, redisFetchMany } from './redis/redis.js';
import { ResendGate } from './redis/resend.js';
import { TrackingTable } from './invalidation/tracking-table.js';
import { clusterFetchTyped, redisFetchTyped } from './redis/typed-read.js';

export interface BackendOptions {
  settings: BackendSettings;
  /** Prefix for log lines and connection names, e.g. `shard 2`. */
  label: string;
  log: Log;
  /** The shard's stats array: RedisUp, RedisNodes, RedisNodesUp, and the tracking figures. */
  stats: Float64Array;
  /** Idle-link check interval of every connection; default `PING_MS`. */
  pingMs?: number;
}

/** What a shard needs from its backing store. */
export interface Backend {
  fetch: Fetch;
  /** Absent in cluster mode: a batch's keys are fetched one GET each. */
  fetchMany?: FetchMany;
  /** When a read whose connection dropped goes out again (`ResendGate.wait`). */
  resend: (started: number) => Promise<boolean>;
  /** Values with their TTLs (`expiry-read.ts`): what the shard reads with, unless a test turns it off. */
  fetchWithLife: FetchWithLife;
  /** Keys of any type, whole, with their type and TTL (`typed-read.ts`). */
  fetchTyped: FetchWithLife;
  /** One typed command as it is, for a key too large to cache (`forward.ts`): on the data connection, or routed by its key in a cluster. */
  forward: Forward;
  /**
   * Keeps `target` coherent through client tracking (INVALIDATION=tracking);
   * with `keepWhileDown` (STALE_IF_ERROR_MS), a lost link flushes when it
   * re-arms instead of at once. Not called with INVALIDATION=ttl.
   */
  track(target: InvalidationTarget, keepWhileDown: boolean): void;
  /**
   * Watches Redis's tracking table (`tracking-table.ts`) against
   * `capacity`, CACHE_CAPACITY: one shard per proxy does (shard 0).
   */
  watchTable(capacity: number): void;
  /**
   * Resolves with `ready` once the store is reachable and tracking has
   * settled, or with `redis unreachable` after `waitMs`.
   */
  ready(waitMs: number): Promise<string>;
  /** Closes every connection, without reporting it as lost. */
  close(): void;
}

/** Opens the connections of the configured mode. */
export function openBackend(o: BackendOptions): Backend {
  const { settings, stats, log, label } = o;
  const pingMs = o.pingMs ?? PING_MS;
  const tracking = settings.tracking ? { tracking: settings.tracking } : {};
  stats[Stat.RedisUp] = 0;
  stats[Stat.RedisNodesUp] = 0;
  let client: Redis | Cluster;
  let fetch: Fetch;
  let fetchMany: FetchMany | undefined;
  let fetchWithLife: FetchWithLife;
  let fetchTyped: FetchWithLife;
  let forward: Forward;
  let close: () => void;
  let coherence: (Coherence & { close(): void }) | undefined;
  let track: (target: InvalidationTarget, keepWhileDown: boolean) => Coherence & { close(): void };
  let servers: () => Redis[];
  let table: TrackingTable | undefined;
  let everUp = false;
  /** The RedisUp gauge, and a reconnect counted each time it rises again. */
  const upChanged = (ready: boolean): void => {
    if (ready && stats[Stat.RedisUp] !== 1 && everUp) stats[Stat.RedisReconnects]!++;
    everUp ||= ready;
    stats[Stat.RedisUp] = ready ? 1 : 0;
  };
  if (settings.mode === 'cluster') {
    const c = connectCluster({
      settings,
      label,
      log,
      pingMs,
      onUp: upChanged,
      onNodes: (masters, up) => {
        stats[Stat.RedisNodes] = masters;
        stats[Stat.RedisNodesUp] = up;
      },
    });
    client = c.cluster;
    servers = () => c.cluster.nodes('master');
    fetch = c.fetch;
    fetchWithLife = clusterFetchWithLife(c.cluster, c.cork);
    fetchTyped = clusterFetchTyped(c.cluster, c.cork);
    forward = forwardOn(c.cluster, c.cork);
    close = c.close;
    track = (target, keepWhileDown) =>
      new ClusterTracking({
        cluster: c.cluster,
        url: settings.url,
        timeoutMs: settings.timeoutMs,
        pingMs,
        target,
        label,
        log,
        keepWhileDown,
        stats,
        ...tracking,
      });
  } else {
    stats[Stat.RedisNodes] = 1;
    const server = settings.mode === 'sentinel' ? serverOptions(settings) : undefined;
    const where = describeBackend(settings);
    const up = (ready: boolean): void => {
      upChanged(ready);
      stats[Stat.RedisNodesUp] = ready ? 1 : 0;
    };
    // In both INVALIDATION modes: a data link that died silently would
    // otherwise fail every read by timeout and never be replaced.
    const c = connectRedis({
      url: settings.url,
      ...(server ? { server } : {}),
      where,
      timeoutMs: settings.timeoutMs,
      label,
      log,
      onUp: up,
      pingMs,
    });
    client = c.redis;
    servers = () => [c.redis];
    fetch = redisFetch(c.redis);
    fetchMany = redisFetchMany(c.redis);
    fetchWithLife = redisFetchWithLife(c.redis);
    fetchTyped = redisFetchTyped(c.redis);
    forward = forwardOn(c.redis, turnCork(c.redis));
    close = c.close;
    track = (target, keepWhileDown) =>
      new Invalidation({
        url: settings.url,
        ...(server ? { server } : {}),
        where,
        timeoutMs: settings.timeoutMs,
        data: c.redis,
        pingMs,
        target,
        label,
        log,
        keepWhileDown,
        stats,
        ...tracking,
      });
  }
  const gate = new ResendGate(client, settings.timeoutMs, () => performance.now());
  return {
    fetch,
    ...(fetchMany ? { fetchMany } : {}),
    resend: (started) => gate.wait(started),
    fetchWithLife,
    fetchTyped,
    forward,
    track(target, keepWhileDown) {
      coherence = track(target, keepWhileDown);
    },
    watchTable(capacity) {
      table = new TrackingTable({ servers, mode: settings.tracking?.mode ?? 'default', capacity, label, log, stats });
    },
    ready(waitMs) {
      // With tracking, ready means armed too: until then nothing is cached.
      const isReady = (): boolean => client.status === 'ready' && (coherence?.settled ?? true);
      if (isReady()) return Promise.resolve('ready');
      return new Promise((resolve) => {
        const check = (): void => {
          if (isReady()) done();
        };
        const done = (): void => {
          clearTimeout(timer);
          client.off('ready', check);
          coherence?.off('settled', check);
          resolve(isReady() ? 'ready' : 'redis unreachable');
        };
        const timer = setTimeout(done, waitMs);
        client.on('ready', check);
        coherence?.on('settled', check);
      });
    },
    close() {
      table?.close();
      coherence?.close();
      close();
    },
  };
}
