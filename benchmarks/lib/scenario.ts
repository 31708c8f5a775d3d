/** One benchmark scenario: what is loaded, how it is read, which targets run it, and what they are compared with. */
import type { Target } from './targets.js';

/** A scenario of `npm run bench` (lib/scenarios.ts lists them). */
export interface Scenario {
  id: string;
  title: string;
  valueBytes: number;
  keys: number;
  trace: () => Uint32Array;
  capacity: number;
  /** When set, every key of the data set gets this TTL (EXPIRE, in seconds) before the scenario runs. */
  expireSeconds?: number;
  targets: Target[];
  /** Name of the target ratios are taken against. */
  baseline: string;
  /** Further targets to take per-round ratios against (peers named by a bar). */
  compare?: string[];
  /** Measure the hit ratio (from Redis key lookups) too. */
  hitRatio?: boolean;
  /**
   * Key indexes from this one on are read once per cycle of the trace (a
   * scan's cold keys): hit ratios are also taken over the other, recurring,
   * requests, the only ones any policy can hit.
   */
  oneOffFrom?: number;
  /** Paced run at `fraction` of the peak `target` reached in scenario `of` earlier in this run. */
  paced?: { of: string; target: string; fraction: number };
}
