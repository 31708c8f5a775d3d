/**
 * CPU time per request, per thread, read from /proc: each thread's time on
 * a CPU (`/proc/<pid>/task/<tid>/schedstat`, nanoseconds; `stat`'s utime +
 * stime in clock ticks where schedstat is missing) before and after a load
 * run, divided by the requests the run served. Unlike throughput, this holds
 * on any machine: on 2 shared cores the threads cannot all run at once, but
 * the work each does per request is the same as on 64.
 *
 * Threads are grouped by name: shardcache names its own (`shardcache` for
 * the main thread, which is acceptor 0; `acceptor-i`; `shard-i`); Node's
 * helper threads (V8's GC and compiler workers, libuv's pool, the inspector)
 * are summed as `node internals`; other programs' threads by their names.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { median } from './stats.js';

/** One thread's name and CPU nanoseconds so far. */
interface Sample {
  name: string;
  ns: number;
}

/** Every thread of `pids` (and their child processes), keyed `pid/tid`. */
export type CpuSnapshot = Map<string, Sample>;

/** Per-request CPU of one load run: microseconds per request by thread group, the total, and the busiest single thread. */
export interface CpuPerRequest {
  /** µs per request of each thread group (summed over the threads of the group). */
  groups: Record<string, number>;
  totalUs: number;
  /** The single thread that spent the most, and its µs per request. */
  busiest: string;
  busiestUs: number;
}

const NODE_INTERNALS = /^(V8Worker|DelayedTaskSche|SignalInspector|libuv-worker|WorkerThread|node|HeapHelper|inspector)/;
const TICK_NS = 1e7;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

function threadNs(pid: number, tid: string): number | undefined {
  const schedstat = read(`/proc/${pid}/task/${tid}/schedstat`);
  if (schedstat !== undefined) return Number(schedstat.split(' ', 1)[0]);
  const stat = read(`/proc/${pid}/task/${tid}/stat`);
  if (stat === undefined) return undefined;
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_NS;
}

/** `pid` and every process below it (Varnish's cache child, for one); exported for the memory benchmark, which finds that child by it. */
export function withChildren(pid: number): number[] {
  const out = [pid];
  for (const tid of safeList(`/proc/${pid}/task`)) {
    for (const child of (read(`/proc/${pid}/task/${tid}/children`) ?? '').split(' ').filter(Boolean))
      out.push(...withChildren(Number(child)));
  }
  return out;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The CPU time so far of every thread of `pids` and their children. */
export function snapshot(pids: readonly number[]): CpuSnapshot {
  const out: CpuSnapshot = new Map();
  for (const pid of pids.flatMap(withChildren)) {
    for (const tid of safeList(`/proc/${pid}/task`)) {
      const ns = threadNs(pid, tid);
      const name = read(`/proc/${pid}/task/${tid}/comm`)?.trim();
      if (ns !== undefined && name !== undefined) out.set(`${pid}/${tid}`, { name, ns });
    }
  }
  return out;
}

/** What each thread spent between two snapshots, per request served in between. */
export function perRequest(before: CpuSnapshot, after: CpuSnapshot, requests: number): CpuPerRequest {
  const groups: Record<string, number> = {};
  let totalUs = 0;
  let busiest = '';
  let busiestUs = 0;
  for (const [key, { name, ns }] of after) {
    const us = (ns - (before.get(key)?.ns ?? 0)) / 1000 / Math.max(1, requests);
    const group = NODE_INTERNALS.test(name) ? 'node internals' : name;
    groups[group] = (groups[group] ?? 0) + us;
    totalUs += us;
    if (us > busiestUs) {
      busiestUs = us;
      busiest = name;
    }
  }
  return { groups, totalUs, busiest, busiestUs };
}

/** The median of each figure over rounds; the busiest thread's name is the one named most often. */
export function medianCpu(rounds: readonly CpuPerRequest[]): CpuPerRequest | undefined {
  if (rounds.length === 0) return undefined;
  const mid = median;
  const names = [...new Set(rounds.flatMap((r) => Object.keys(r.groups)))];
  const counts = new Map<string, number>();
  for (const r of rounds) counts.set(r.busiest, (counts.get(r.busiest) ?? 0) + 1);
  return {
    groups: Object.fromEntries(names.map((n) => [n, mid(rounds.map((r) => r.groups[n] ?? 0))])),
    totalUs: mid(rounds.map((r) => r.totalUs)),
    busiest: [...counts].sort((a, b) => b[1] - a[1])[0]![0],
    busiestUs: mid(rounds.map((r) => r.busiestUs)),
  };
}
