/**
 * The "CPU per request, by thread" table of a run: for each target whose CPU
 * was read from /proc (hit path, thread sweep, miss path, RESP GET), the
 * microseconds per request of each thread group, the busiest single thread,
 * and two projections from them, labelled as such: the peak on a machine
 * with a core for every thread (1e6 ÷ the busiest thread's µs: no thread can
 * go faster than that) and the throughput per core (1e6 ÷ the total µs).
 */
import type { CpuPerRequest } from './cpu.js';
import { fmt, type RunResult } from './results.js';

function row(name: string, c: CpuPerRequest): string {
  const groups = Object.entries(c.groups)
    .filter(([, us]) => us >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([g, us]) => `${g} ${fmt(us, 1)}`)
    .join(', ');
  return `| ${name} | ${fmt(c.totalUs, 1)} | ${c.busiest} ${fmt(c.busiestUs, 1)} (${fmt((100 * c.busiestUs) / c.totalUs)} %) | ${groups} | ${fmt(1e6 / c.busiestUs)} | ${fmt(1e6 / c.totalUs)} |`;
}

/** The table's Markdown lines; none when no CPU was read. */
export function cpuLines(run: RunResult): string[] {
  const rows: string[] = [];
  for (const sc of run.scenarios) {
    for (const t of sc.targets) if (t.cpu !== undefined) rows.push(row(`${sc.id}: ${t.name}`, t.cpu));
  }
  for (const r of run.resp ?? []) {
    if (r.cpu === undefined) continue;
    rows.push(
      row(`resp ${r.test} P${r.pipeline}: shardcache`, r.cpu.proxy),
      row(`resp ${r.test} P${r.pipeline}: Node RESP ceiling`, r.cpu.ceiling),
      row(`resp ${r.test} P${r.pipeline}: redis-server`, r.cpu.redis),
    );
  }
  if (rows.length === 0) return [];
  return [
    '### CPU per request, by thread',
    '',
    'Each thread’s CPU time from `/proc/<pid>/task/<tid>/schedstat` over a load run, ÷ the requests served (median over rounds). Thread names as `top -H` shows them: `shardcache` is the main thread (acceptor 0), `node internals` are V8’s GC and compiler threads and libuv’s. On these 2 cores the threads of a many-thread target share the cores with wrk and each other: their sum grows with the thread count (smaller batches per event-loop turn, more GC and JIT threads), which a machine with a core per thread would not show.',
    '',
    '| target | total µs | busiest thread µs (share) | µs by thread | projected peak req/s (1e6 ÷ busiest) | projected req/s per core (1e6 ÷ total) |',
    '| --- | ---: | --- | --- | ---: | ---: |',
    ...rows,
    '',
    'Projections, not measurements: a peak assumes a core for every thread and a load generator that keeps up. Varnish runs a thread per connection, so its busiest thread bounds nothing and its projected peak says nothing; its per-core figure holds.',
    '',
  ];
}
