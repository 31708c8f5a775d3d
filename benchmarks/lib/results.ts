/** What a benchmark run found, as latest.json holds it, and the bars it is held to; written out by report.ts. */
import type { StalenessSummary } from '../staleness.js';
import type { CpuPerRequest } from './cpu.js';
import type { HitRatios } from './replay.js';
import type { RespRow } from './resp.js';

/** Hit ratios (hit-ratio scenarios only): measured, and the target's policy (an exact LRU unless it runs EVICTION=tinylfu) replayed offline over the same requests (lib/replay.ts). */
export interface TargetResult extends Partial<HitRatios> {
  name: string;
  /** Median requests per second over the rounds. */
  rps: number;
  /** Median over rounds of rps / the baseline's rps in the same round. */
  ratio: number;
  /** The same ratio against each of the scenario's `compare` targets. */
  vs: Record<string, number>;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  errors: number;
  requests: number;
  /** Requests per second of each round, in order. */
  rounds: number[];
  /** The p99 of each round, in order. */
  p99Rounds: number[];
  /** CPU per request by thread: each round's, and their medians. */
  cpuRounds?: CpuPerRequest[];
  cpu?: CpuPerRequest;
}

export interface ScenarioResult {
  id: string;
  title: string;
  baseline: string;
  compare: string[];
  pauseMs?: number;
  targets: TargetResult[];
  skipped: { name: string; reason: string }[];
}

/**
 * A performance bar from the issues: a floor (`min`) or a ceiling (`max`,
 * `p99MaxMs`) on one measure of one target in one scenario.
 */
export interface Bar {
  label: string;
  scenario: string;
  target: string;
  /** The other target of a ratio (throughput, CPU or p99): the scenario's baseline or one of its `compare` targets. */
  against?: string;
  min?: number;
  max?: number;
  /** An absolute ceiling on the p99. */
  p99MaxMs?: number;
  /** CPU bars: the busiest thread's share of a request's CPU, or the total CPU per request ÷ `against`'s (per round, median). */
  cpu?: 'busiest-share' | 'total';
  /** p99 ÷ `against`'s p99 in the same round (same pace), median over rounds. */
  p99Ratio?: boolean;
  /** RESP bars: the row of the RESP table, against Redis (default) or the Node RESP ceiling. */
  resp?: { test: 'GET' | 'MGET'; pipeline: number; against?: 'ceiling' };
  /** Coherence bars: the p99 staleness at 10k SET/s, or the tracking ÷ ttl hit-path ratio. */
  staleness?: 'p99' | 'cost';
  /** Hit-ratio bars: the target's hit ratio minus that of 'exact LRU' (offline) or of another target, in points, at least `min`. */
  hitRatioOver?: string;
  /** Take the hit ratios over the recurring requests only (a trace with one-off keys). */
  hitRatioOn?: 'recurring';
}

export interface RunResult {
  date: string;
  machine: string;
  /** The load generator of every target in this run. */
  generator: 'wrk' | 'autocannon';
  quick: boolean;
  rounds: number;
  seconds: number;
  connections: number;
  scenarios: ScenarioResult[];
  resp?: RespRow[];
  /** Rounds of the RESP scenario (fewer than `rounds`: each is a fixed request count). */
  respRounds?: number;
  staleness?: StalenessSummary;
  bars: Bar[];
}

/** A figure with `digits` decimals, or a dash where there is none. */
export const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');
