/**
 * Keys whose values say which key and which version they are
 * (`<key>=v<version>`), for fault tests that must count wrong answers: a
 * value of another key, or a version older than one Redis acknowledged at
 * least `graceMs` before the request was sent. The grace is the
 * invalidation's own travel time (coherence is not linearizable: see
 * docs/coherence.md); anything older is a value no invalidation will ever
 * correct, which is what these tests exist to rule out.
 */
import type { Agent } from 'undici';
import { get } from './http.js';
import { load, type Shot } from './load.js';
import { sleep } from './time.js';

/** Something that can SET: a Redis or a Cluster client. */
export interface Writer {
  set(key: string, value: string): Promise<unknown>;
}

/** What a fault test reports: every figure the issue asks for. */
export interface Figures {
  sent: number;
  /** 200 with a right value. */
  ok: number;
  /** 503 (with Retry-After), the answer while Redis is unreachable. */
  unavailable: number;
  /** Any other status, or no answer at all. */
  other: number;
  wrong: number;
  /** The slowest answer, ms. */
  slowestMs: number;
  /** The oldest acknowledged version a 200 was behind by, ms since that acknowledgement (0: never behind). */
  maxStaleMs: number;
}

export class VersionedKeys {
  readonly keys: string[];
  /** Per key: [version, acknowledged at (performance.now())], in order. */
  readonly #acks = new Map<string, [number, number][]>();
  readonly #graceMs: number;

  constructor(prefix: string, count: number, graceMs = 100) {
    this.keys = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
    this.#graceMs = graceMs;
    for (const key of this.keys) this.#acks.set(key, []);
  }

  /** The value of `key` at `version`. */
  static value(key: string, version: number): string {
    return `${key}=v${version}`;
  }

  /** SETs `key` to `version` and records when Redis acknowledged it (a failed SET records nothing). */
  async write(writer: Writer, key: string, version: number): Promise<boolean> {
    try {
      await writer.set(key, VersionedKeys.value(key, version));
    } catch {
      return false;
    }
    this.#acks.get(key)!.push([version, performance.now()]);
    return true;
  }

  /** Writes every key at `version`, a few at a time. */
  async writeAll(writer: Writer, version: number): Promise<void> {
    for (let i = 0; i < this.keys.length; i += 20) await Promise.all(this.keys.slice(i, i + 20).map((k) => this.write(writer, k, version)));
  }

  /** The latest version acknowledged before `at`, or -1. */
  ackedBefore(key: string, at: number): number {
    let version = -1;
    for (const [v, when] of this.#acks.get(key)!) if (when <= at && v > version) version = v;
    return version;
  }

  /** Counts `shots`: right values, 503s, others, wrong values, the slowest answer and the worst staleness. */
  figures(shots: readonly Shot[]): Figures {
    const f: Figures = { sent: shots.length, ok: 0, unavailable: 0, other: 0, wrong: 0, slowestMs: 0, maxStaleMs: 0 };
    for (const shot of shots) {
      f.slowestMs = Math.max(f.slowestMs, shot.ended - shot.started);
      if (shot.status === 503 && shot.headers['retry-after'] === '1') f.unavailable++;
      else if (shot.status !== 200) f.other++;
      else if (this.#wrong(shot, f)) f.wrong++;
      else f.ok++;
    }
    return f;
  }

  #wrong(shot: Shot, f: Figures): boolean {
    const m = /^(.*)=v(\d+)$/.exec(shot.body);
    if (m === null || m[1] !== shot.key) return true;
    const served = Number(m[2]);
    // Behind a version acknowledged before the request: how long before?
    for (const [v, when] of this.#acks.get(shot.key)!) {
      if (v > served && when <= shot.started) f.maxStaleMs = Math.max(f.maxStaleMs, shot.started - when);
    }
    return served < this.ackedBefore(shot.key, shot.started - this.#graceMs);
  }
}

/** One line with every figure, for the test's output. */
export function describeFigures(what: string, f: Figures, extra = ''): string {
  return `${what}: ${f.sent} sent, ${f.ok} answered right, ${f.unavailable} answered 503, ${f.other} other, ${f.wrong} wrong values; slowest ${Math.round(f.slowestMs)} ms, most stale ${Math.round(f.maxStaleMs)} ms${extra}`;
}

/** A proxy under test, the keys it serves, and who writes them. */
export interface LoadTarget {
  keys: VersionedKeys;
  writer: Writer;
  /** The proxy's HTTP base URL. */
  base: string;
  dispatcher: Agent;
  /**
   * Stop writing (and let replication catch up) during the fault: a master
   * killed, or a failover that does not wait for the replica (Sentinel's),
   * can lose writes it acknowledged but had not yet replicated, and a value
   * Redis itself lost is not the proxy's to serve. A manual CLUSTER FAILOVER
   * waits, so it is run with writes going on.
   */
  pauseWrites?: boolean;
}

/**
 * Runs 8 clients over the keys and a writer raising their versions (one
 * SET every 5 ms) until `during` resolves, then a little longer; resolves
 * with every request's outcome.
 */
export async function underLoad(o: LoadTarget, during: () => Promise<unknown>): Promise<Shot[]> {
  let stop = false;
  let paused = false;
  const reads = load({ base: o.base, keys: o.keys.keys, clients: 8, dispatcher: o.dispatcher, stop: () => stop, maxRequests: 200000 });
  const writes = (async () => {
    for (let version = 2; !stop; version++) {
      for (const key of o.keys.keys) {
        if (stop) break;
        while (paused) await sleep(5);
        await o.keys.write(o.writer, key, version);
        await sleep(5);
      }
    }
  })();
  await sleep(300);
  paused = o.pauseWrites === true;
  if (paused) await sleep(200);
  await during();
  paused = false;
  await sleep(o.pauseWrites ? 1000 : 300);
  stop = true;
  await writes;
  return reads;
}

/** From `from` until the end of the last answer that was not a right 200, ms (0 when there was none). */
export function recoveryMs(keys: VersionedKeys, shots: readonly Shot[], from: number): number {
  let last = from;
  for (const s of shots) if (s.ended > from && keys.figures([s]).ok === 0) last = Math.max(last, s.ended);
  return last - from;
}

/** Writes every key at `version` and polls the proxy until it serves them all (5 s at most); resolves with the slowest key's ms. */
export async function newValuesShow(o: LoadTarget, version: number): Promise<number> {
  await o.keys.writeAll(o.writer, version);
  const started = performance.now();
  let slowest = 0;
  for (const key of o.keys.keys) {
    const want = VersionedKeys.value(key, version);
    while ((await get(o.base, `/${key}`, { dispatcher: o.dispatcher })).body.toString() !== want && performance.now() - started < 5000)
      await sleep(5);
    slowest = Math.max(slowest, performance.now() - started);
  }
  return slowest;
}
