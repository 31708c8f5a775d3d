/**
 * Copying a shard's counters into its shared stats array (`shard-stats.ts`),
 * which the main thread reads at scrape time: a few stores per batch, none
 * per request. Apart from shard.ts to keep that file to its request handling.
 */
import type { Store } from '../cache/store.js';
import { PROTOCOLS } from '../hop/vocabulary.js';
import { Stat } from '../metrics/shard-stats.js';
import type { MissLimit } from './miss-limit.js';
import type { Refresh } from './refresh.js';

/** The counters a shard keeps. */
export interface ShardCounters {
  readonly stats: Float64Array;
  readonly hits: Float64Array;
  readonly misses: Float64Array;
  readonly coalesced: Float64Array;
  readonly cache: Store;
  readonly refresh: Refresh;
  readonly limit: MissLimit;
  readonly staleIfErrorServed: number;
  readonly tooLarge: number;
}

/** Publishes `shard`'s counters, each added to `base` (a replaced worker's counters, carried on). */
export function publishShard(shard: ShardCounters, base: Float64Array): void {
  const s = shard.stats;
  const b = base;
  for (let p = 0; p < PROTOCOLS.length; p++) {
    s[Stat.Hits + p] = b[Stat.Hits + p]! + shard.hits[p]!;
    s[Stat.Misses + p] = b[Stat.Misses + p]! + shard.misses[p]!;
    s[Stat.Coalesced + p] = b[Stat.Coalesced + p]! + shard.coalesced[p]!;
  }
  s[Stat.Expired] = b[Stat.Expired]! + shard.cache.expired;
  s[Stat.Evicted] = b[Stat.Evicted]! + shard.cache.evicted;
  s[Stat.StaleIfErrorServed] = b[Stat.StaleIfErrorServed]! + shard.staleIfErrorServed;
  s[Stat.TooLarge] = b[Stat.TooLarge]! + shard.tooLarge;
  s[Stat.RefreshesStarted] = b[Stat.RefreshesStarted]! + shard.refresh.started;
  s[Stat.RefreshesFailed] = b[Stat.RefreshesFailed]! + shard.refresh.failed;
  s[Stat.StaleWhileRevalidateServed] = b[Stat.StaleWhileRevalidateServed]! + shard.refresh.staleWhileRevalidateServed;
  s[Stat.ShedMisses] = b[Stat.ShedMisses]! + shard.limit.shed;
  s[Stat.Waiting] = shard.limit.waiting;
  s[Stat.Entries] = shard.cache.size;
  s[Stat.Bytes] = shard.cache.bytes;
}
