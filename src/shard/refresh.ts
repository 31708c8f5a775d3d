/**
 * When a hit refreshes its entry in the background, so that a hot key never
 * makes its clients wait on Redis when it expires:
 *
 * - STALE_WHILE_REVALIDATE_MS: an entry past its TTL but within the window
 *   is answered at once (stale) and refreshed.
 * - Early refresh (XFetch: Vattani, Chierichetti and Lowenstein, "Optimal
 *   Probabilistic Cache Stampede Prevention", VLDB 2015): a hit refreshes its
 *   entry before expiry when `-delta · β · ln(U) ≥ time left`, U uniform in
 *   (0, 1]. The chance rises as expiry nears, and hot keys, read often, are
 *   all but sure to be refreshed in time. Delta is how long a refresh takes
 *   to replace the entry: the shard's mean Redis round trip plus its
 *   event-loop delay (p99 of the last window), since under load the landing
 *   waits its turn (with the round trip alone, the stampede test saw 3 of 20
 *   expiries pass before their refresh landed).
 *
 * The hit path pays one comparison (`age >= from`); only hits within
 * `EARLY_HORIZON · delta · β` of expiry draw a random number, and never
 * before the last quarter of the TTL: XFetch's lead grows with the hit rate
 * (about delta · β · ln(rate · delta · β)), and with a TTL not much longer
 * than delta a very hot key would be refreshed several times per TTL (the
 * stampede benchmark, TTL 200 ms against a 20 ms Redis, measured 3.3 GETs
 * per TTL period without this floor).
 */
import { Stat } from '../metrics/shard-stats.js';

/** The waiter of a background refresh: nobody to answer (a negative waiter has no link). */
export const REFRESH = -1;

/** Beyond this many `delta · β` before expiry, the chance of an early refresh is below e^-10: no draw. */
export const EARLY_HORIZON = 10;

/** See the file comment. */
export class Refresh {
  /** The age from which a hit asks `due`: the TTL, or the early-refresh horizon before it; never when both are off. */
  from = Number.POSITIVE_INFINITY;
  /** Delta, in ms. */
  deltaMs = 1;
  /** Refreshes started, and failed (Redis errors: the old entry stays within its windows). */
  started = 0;
  failed = 0;
  /** Answers given stale within STALE_WHILE_REVALIDATE_MS. */
  staleWhileRevalidateServed = 0;

  constructor(
    readonly ttlMs: number,
    readonly swrMs: number,
    /** XFetch's β; 0 turns early refresh off. */
    readonly beta: number,
  ) {
    if (swrMs > 0) this.from = ttlMs;
  }

  /** Takes delta from the shard's figures (once per request batch). */
  update(stats: Float64Array): void {
    if (this.beta === 0) return;
    const count = stats[Stat.LatencyCount]!;
    this.deltaMs = (count > 0 ? (stats[Stat.LatencySum]! / count) * 1000 : 1) + stats[Stat.LoopP99]! * 1000;
    this.from = Math.min(this.ttlMs, Math.max(this.ttlMs * 0.75, this.ttlMs - this.deltaMs * this.beta * EARLY_HORIZON));
  }

  /** Whether a hit on an entry `age` ms old (at least `from`) should refresh it; counts a stale answer. */
  due(age: number): boolean {
    if (age >= this.ttlMs) {
      this.staleWhileRevalidateServed++;
      return true;
    }
    return -this.deltaMs * this.beta * Math.log(1 - Math.random()) >= this.ttlMs - age;
  }
}
