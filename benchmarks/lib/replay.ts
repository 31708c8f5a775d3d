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

/**
 * A reference model of `policy` (`policies.ts`) with `capacity` keys,
 * replayed over `segments` of the cycled `trace` (key `i` named `name(i)`);
 * returns the hit ratio of each measured segment, in order.
 */
export function simulate(policy: 'lru' | 'tinylfu', trace: Uint32Array, capacity: number, segments: readonly Segment[], name: (i: number) => string): number[] {
  const model = modelOf(policy, capacity);
  const ratios: number[] = [];
  for (const s of segments) {
    let hits = 0;
    for (let k = 0; k < s.count; k++) if (model.read(name(trace[(s.start + k) % trace.length]!))) hits++;
    if (s.measured) ratios.push(hits / Math.max(1, s.count));
  }
  return ratios;
}
