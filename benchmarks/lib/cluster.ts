/**
 * shardcache in front of a Redis Cluster against shardcache in front of one
 * Redis, hit path and miss path in the same run (issue 12: the cluster's
 * miss path ≥ 0.8× standalone's). The cluster target starts its own 3
 * masters + 3 replicas (test/helpers/cluster.ts) and loads them with the
 * scenario's keys, the same names and sizes the standalone Redis holds; its
 * CPU per request counts the proxy's threads only, as the standalone
 * target's does.
 */
import { randomFillSync } from 'node:crypto';
import { startCluster } from '../../test/helpers/cluster.js';
import { startNode } from '../../test/helpers/processes.js';
import { cycleTrace, keyName } from './data.js';
import type { Bar } from './results.js';
import type { Scenario } from './scenario.js';
import { shardcache, starting, Stoppers, type Target } from './targets.js';

/** shardcache (default threads) reading from a cluster started for it and loaded with `keys` keys. */
function onCluster(keys: number, name: string): Target {
  return {
    name,
    start: (e) => {
      const stoppers = new Stoppers();
      return starting(stoppers, async () => {
        const cluster = await startCluster(stoppers);
        // A few hundred SETs at a time: a cross-slot MSET is refused.
        for (let start = 0; start < keys; start += 500) {
          const sets: Promise<unknown>[] = [];
          for (let i = start; i < Math.min(keys, start + 500); i++)
            sets.push(cluster.client.set(keyName(e.valueBytes, i), randomFillSync(Buffer.allocUnsafe(e.valueBytes))));
          await Promise.all(sets);
        }
        const env = { REDIS_CLUSTER_NODES: cluster.seeds, CACHE_CAPACITY: String(e.capacity), CACHE_TTL_MS: String(e.ttlMs) };
        const proc = await startNode(stoppers, 'dist/src/main.js', env);
        return { url: proc.url, style: 'plain', pids: [proc.child.pid!], stop: () => stoppers.run() };
      });
    },
  };
}

const MISS = 'shardcache (no cache)';
const MISS_CLUSTER = 'shardcache on a Redis Cluster (no cache)';

/** The two scenarios, 10k keys of 100 B each, as the standalone hit and miss scenarios. */
export function clusterScenarios(): Scenario[] {
  const common = { valueBytes: 100, keys: 10000, trace: () => cycleTrace(10000) };
  return [
    {
      id: 'cluster-hit',
      title: 'Hit path on a Redis Cluster (3 masters + 3 replicas) and on one Redis: 10k keys, 100 B, all cached',
      ...common,
      capacity: 100000,
      targets: [shardcache(), onCluster(10000, 'shardcache on a Redis Cluster')],
      baseline: 'shardcache',
    },
    {
      id: 'cluster-miss',
      title: 'Miss path on a Redis Cluster (3 masters + 3 replicas) and on one Redis (CACHE_CAPACITY=0)',
      ...common,
      capacity: 0,
      targets: [shardcache(undefined, {}, MISS), onCluster(10000, MISS_CLUSTER)],
      baseline: MISS,
    },
  ];
}

/** The bar issue 12 sets. */
export const CLUSTER_BARS: Bar[] = [
  { label: 'cluster miss path ≥ 0.8× standalone', scenario: 'cluster-miss', target: MISS_CLUSTER, against: MISS, min: 0.8 },
];
