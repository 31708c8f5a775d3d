/**
 * Hit ratios that can be trusted: every target replays the trace as one
 * continuous sequence (each wrk run starts where that target's last one
 * stopped), and the same positions are replayed offline through an exact
 * LRU of the same capacity, so the measured ratio has a reference it must
 * match.
 *
 * Why: the zipf trace is 500k requests and a round covers 150–250k of them.
 * When each run started at a random point (as `paths.lua` still does for the
 * other scenarios), a round often re-read part of what the round before had
 * just read, and found it cached: per-round hit ratios of one proxy ranged
 * from 66% to 97%, and the median depended on chance and on how far each
 * target got per round (79.2% for shardcache against 84.8% for lru-cache in
 * one run, while an exact LRU over the trace in order gives 76.8%).
 */

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

/**
 * An exact LRU of `capacity` keys (a Map in recency order) replayed over
 * `segments` of the cycled `trace`; returns the hit ratio of each measured
 * segment, in order.
 */
export function simulateLru(trace: Uint32Array, capacity: number, segments: readonly Segment[]): number[] {
  const lru = new Map<number, true>();
  const ratios: number[] = [];
  for (const s of segments) {
    let hits = 0;
    for (let k = 0; k < s.count; k++) {
      const key = trace[(s.start + k) % trace.length]!;
      if (lru.delete(key)) hits++;
      else if (lru.size >= capacity) lru.delete(lru.keys().next().value!);
      lru.set(key, true);
    }
    if (s.measured) ratios.push(hits / Math.max(1, s.count));
  }
  return ratios;
}
