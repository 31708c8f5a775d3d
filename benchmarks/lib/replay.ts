/**
 * Hit ratios that can be trusted: every target replays the trace as one
 * continuous sequence (each wrk run starts where that target's last one
 * stopped), and the same positions are replayed offline through an exact
 * LRU (or, for a target run with EVICTION=tinylfu, W-TinyLFU) of the same
 * capacity, so the measured ratio has a reference it must match.
 *
 * Why: the zipf trace is 500k requests and a round covers 150–250k of them.
 * When each run started at a random point (as `paths.lua` still does for the
 * other scenarios), a round often re-read part of what the round before had
 * just read, and found it cached: per-round hit ratios of one proxy ranged
 * from 66% to 97%, and the median depended on chance and on how far each
 * target got per round (79.2% for shardcache against 84.8% for lru-cache in
 * one run, while an exact LRU over the trace in order gives 76.8%).
 */

import { optimalHits } from './belady.js';
import { modelOf } from './policies.js';

/** A stretch of the trace one run replayed. */
export interface Segment {
  start: number;
  count: number;
  /** Counted in the hit ratio (a round), or only warming the cache. */
  measured: boolean;
}

/** Where each target is in the trace, and what it has replayed. */
export class Replay {
  readonly #next = new Map<string, number>();
  readonly #segments = new Map<string, Segment[]>();

  constructor(readonly length: number) {}

  /** Where `target`'s next run starts. */
  startOf(target: string): number {
    return this.#next.get(target) ?? 0;
  }

  /** Records that `target` replayed `requests` from its position on. */
  advance(target: string, requests: number, measured: boolean): void {
    const start = this.startOf(target);
    this.#next.set(target, (start + requests) % this.length);
    const list = this.#segments.get(target) ?? [];
    list.push({ start, count: requests, measured });
    this.#segments.set(target, list);
  }

  /** The segments `target` replayed, in order. */
  segments(target: string): Segment[] {
    return this.#segments.get(target) ?? [];
  }
}

/** What one measured segment held, from the offline replay. */
export interface SegmentCounts {
  requests: number;
  hits: number;
  /** Requests for recurring keys (all of them when the trace has no one-off keys). */
  recurring: number;
  recurringHits: number;
  /** Hits on one-off keys: the measured recurring hit ratio assumes there are none. */
  oneOffHits: number;
  /** Hits of Belady's optimal policy (`belady.ts`) on the same requests, all and recurring. */
  optimalHits: number;
  optimalRecurringHits: number;
}

/**
 * A reference model of `policy` (`policies.ts`) with `capacity` keys,
 * replayed over `segments` of the cycled `trace` (key `i` named `name(i)`;
 * keys from `oneOffFrom` on are the one-off ones); returns the counts of each
 * measured segment, in order.
 */
export function simulate(
  policy: 'lru' | 'tinylfu',
  trace: Uint32Array,
  capacity: number,
  segments: readonly Segment[],
  name: (i: number) => string,
  oneOffFrom = Number.POSITIVE_INFINITY,
): SegmentCounts[] {
  const model = modelOf(policy, capacity);
  const keys = new Uint32Array(segments.reduce((a, s) => a + s.count, 0));
  let at = 0;
  for (const s of segments) for (let k = 0; k < s.count; k++) keys[at++] = trace[(s.start + k) % trace.length]!;
  const optimal = optimalHits(keys, capacity);
  const out: SegmentCounts[] = [];
  at = 0;
  for (const s of segments) {
    const c: SegmentCounts = {
      requests: s.count,
      hits: 0,
      recurring: 0,
      recurringHits: 0,
      oneOffHits: 0,
      optimalHits: 0,
      optimalRecurringHits: 0,
    };
    for (let k = 0; k < s.count; k++, at++) {
      const key = keys[at]!;
      const hit = model.read(name(key));
      if (hit) c.hits++;
      c.optimalHits += optimal[at]!;
      if (key < oneOffFrom) {
        c.recurring++;
        if (hit) c.recurringHits++;
        c.optimalRecurringHits += optimal[at]!;
      } else if (hit) c.oneOffHits++;
    }
    if (s.measured) out.push(c);
  }
  return out;
}

/**
 * A target's hit ratios in a hit-ratio scenario, measured and replayed
 * offline, each over all its measured rounds together: on a trace whose
 * stretches differ (scans between zipf blocks), a round's ratio depends on
 * where in the trace it ran, and no two targets run at the same places.
 */
export interface HitRatios {
  hitRatio: number;
  simulatedHitRatio: number;
  /** Belady's optimal policy on the same requests: the ceiling. */
  optimalHitRatio: number;
  /** Over the recurring requests only, when the trace has one-off keys. */
  recurringHitRatio?: number;
  simulatedRecurringHitRatio?: number;
  optimalRecurringHitRatio?: number;
  /** Hits on one-off keys in the offline replay, all rounds together. */
  simulatedOneOffHits?: number;
}

/**
 * The hit ratios of the rounds in which a target served `requests[i]` and
 * Redis saw `lookups[i]` key lookups, beside `sims` (`simulate` over the same
 * segments). A one-off key cannot be a hit unless it is still cached from the
 * trace's previous cycle, so the measured hits over the recurring requests
 * are the measured hits over all; `simulatedOneOffHits` says if that held.
 */
export function hitRatios(
  requests: readonly number[],
  lookups: readonly number[],
  sims: readonly SegmentCounts[],
  oneOffs: boolean,
): HitRatios {
  const total = (of: (c: SegmentCounts) => number): number => sims.reduce((a, c) => a + of(c), 0);
  const all = Math.max(
    1,
    total((c) => c.requests),
  );
  // Fetches still in flight when wrk stops can push the count a hair past the requests it saw.
  const hits = requests.reduce((a, r, i) => a + Math.max(0, r - lookups[i]!), 0);
  const out: HitRatios = {
    hitRatio:
      hits /
      Math.max(
        1,
        requests.reduce((a, r) => a + r, 0),
      ),
    simulatedHitRatio: total((c) => c.hits) / all,
    optimalHitRatio: total((c) => c.optimalHits) / all,
  };
  if (!oneOffs) return out;
  const recurring = Math.max(
    1,
    total((c) => c.recurring),
  );
  out.recurringHitRatio = hits / recurring;
  out.simulatedRecurringHitRatio = total((c) => c.recurringHits) / recurring;
  out.optimalRecurringHitRatio = total((c) => c.optimalRecurringHits) / recurring;
  out.simulatedOneOffHits = sims.reduce((a, c) => a + c.oneOffHits, 0);
  return out;
}
