/**
 * What `/readyz` says of the shards' Redis, in each backing mode: the
 * reason a shard without its store makes the proxy not ready, and the
 * cluster masters a shard cannot reach while it still serves the others.
 */
import { Stat } from '../metrics/shard-stats.js';
import type { RedisMode } from '../routing/backend-settings.js';

const DOWN: Record<RedisMode, string> = {
  standalone: 'redis down',
  sentinel: 'redis down (no master reached through the sentinels)',
  cluster: 'redis cluster unreachable',
};

/** Why a shard whose RedisUp gauge is 0 cannot serve, in the words of its mode. */
export function redisDown(mode: RedisMode): string {
  return DOWN[mode];
}

/**
 * Cluster masters a shard cannot reach while the cluster client as a whole
 * is up: the keys of their slots answer 503 until a replica takes over, the
 * others are served. Not a readiness failure: every proxy in front of the
 * cluster sees the same, and taking them all out of service would turn a
 * partial outage into a whole one.
 */
export function degradedShards(stats: readonly Float64Array[]): string[] {
  const notes: string[] = [];
  stats.forEach((s, i) => {
    const down = s[Stat.RedisNodes]! - s[Stat.RedisNodesUp]!;
    if (s[Stat.RedisUp] === 1 && down > 0) notes.push(`shard ${i}: ${down} of ${s[Stat.RedisNodes]} cluster masters unreachable`);
  });
  return notes;
}
