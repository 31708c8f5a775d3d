/** Writes a run's results: latest.json, latest.md (the table the README shows) and SVG charts. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuLines } from './report-cpu.js';
import { fmt, type Bar, type RunResult, type TargetResult } from './results.js';
import { median } from './stats.js';

/** The median over rounds of `of(target round i) ÷ of(other round i)`. */
function perRound(a: readonly number[], b: readonly number[] | undefined): number {
  return b === undefined ? Number.NaN : median(a.map((x, i) => x / b[i]!));
}

/** The measured value of a bar in this run, or NaN when its scenario did not run. */
export function measure(run: RunResult, bar: Bar): number {
  if (bar.staleness === 'p99') return run.staleness?.results.find((r) => r.rate === 10000)?.p99 ?? Number.NaN;
  if (bar.staleness === 'cost') return run.staleness?.ratio ?? Number.NaN;
  if (bar.resp) {
    const row = run.resp?.find((r) => r.test === bar.resp!.test && r.pipeline === bar.resp!.pipeline);
    return (bar.resp.against === 'ceiling' ? row?.vsCeiling : row?.ratio) ?? Number.NaN;
  }
  const sc = run.scenarios.find((x) => x.id === bar.scenario);
  const t = sc?.targets.find((x) => x.name === bar.target);
  if (sc === undefined || t === undefined) return Number.NaN;
  if (bar.hitRatioOver !== undefined) {
    const of = (x: TargetResult | undefined, simulated: boolean): number | undefined =>
      bar.hitRatioOn === 'recurring'
        ? simulated
          ? x?.simulatedRecurringHitRatio
          : x?.recurringHitRatio
        : simulated
          ? x?.simulatedHitRatio
          : x?.hitRatio;
    const other =
      bar.hitRatioOver === 'exact LRU'
        ? of(t, true)
        : of(
            sc.targets.find((x) => x.name === bar.hitRatioOver),
            false,
          );
    return ((of(t, false) ?? Number.NaN) - (other ?? Number.NaN)) * 100;
  }
  const other = sc.targets.find((x) => x.name === bar.against);
  if (bar.cpu === 'busiest-share') return t.cpu === undefined ? Number.NaN : t.cpu.busiestUs / t.cpu.totalUs;
  if (bar.cpu === 'total')
    return perRound(
      (t.cpuRounds ?? []).map((c) => c.totalUs),
      other?.cpuRounds?.map((c) => c.totalUs),
    );
  if (bar.p99Ratio) return perRound(t.p99Rounds, other?.p99Rounds);
  if (bar.p99MaxMs !== undefined) return t.p99Ms;
  return bar.against === sc.baseline ? t.ratio : (t.vs[bar.against!] ?? Number.NaN);
}

function barLines(run: RunResult): string[] {
  if (run.bars.length === 0) return [];
  const out = ['### Bars', '', '| bar | measured | verdict |', '| --- | ---: | --- |'];
  for (const bar of run.bars) {
    const v = measure(run, bar);
    const ok = bar.p99MaxMs !== undefined ? v <= bar.p99MaxMs : bar.max !== undefined ? v <= bar.max : v >= bar.min!;
    const shown =
      bar.p99MaxMs !== undefined
        ? `${fmt(v, 2)} ms`
        : bar.cpu === 'busiest-share'
          ? `${fmt(v * 100)} %`
          : bar.hitRatioOver !== undefined
            ? `${v >= 0 ? '+' : ''}${fmt(v, 1)} points`
            : `${fmt(v, 2)}×`;
    out.push(`| ${bar.label} | ${shown} | ${Number.isNaN(v) ? 'not run' : ok ? 'met' : 'missed'} |`);
  }
  out.push('');
  return out;
}

const percent = (ratio: number | undefined): string => (ratio === undefined ? '–' : `${fmt(ratio * 100, 1)} %`);

export function markdown(run: RunResult): string {
  const out = [
    `Run ${run.date} on ${run.machine}; ${run.generator === 'wrk' ? 'wrk, 1 thread' : 'autocannon (wrk missing)'}, ${run.connections} connections, ${run.rounds} interleaved rounds of ${run.seconds} s${run.quick ? ' (--quick)' : ''}.`,
    'Ratios: median over rounds of (target req/s ÷ baseline req/s in the same round). Hit ratios: over all of a target’s measured rounds together.',
    '',
  ];
  out.push(...barLines(run));
  out.push(...cpuLines(run));
  for (const sc of run.scenarios) {
    const hit = sc.targets.some((t) => t.hitRatio !== undefined);
    const recurring = sc.targets.some((t) => t.recurringHitRatio !== undefined);
    const hitHead =
      (hit ? ' hit ratio | its policy offline, same requests | optimal (Belady) offline |' : '') +
      (recurring ? ' hit ratio, recurring requests | its policy offline | optimal offline |' : '');
    const hitCols = (hit ? 3 : 0) + (recurring ? 3 : 0);
    out.push(`### ${sc.title}`, '');
    if (sc.pauseMs)
      out.push(
        `Paced: each of the ${run.connections} connections waits ${fmt(sc.pauseMs, 2)} ms on average between requests (drawn from 0.5–1.5× that, so the connections do not fire in step), aiming at ${fmt((run.connections * 1000) / sc.pauseMs)} req/s.`,
        '',
      );
    const vsHead = sc.compare.map((c) => ` × ${c} |`).join('');
    out.push(`| target | req/s | × ${sc.baseline} |${vsHead} p50 ms | p90 ms | p99 ms | errors |${hitHead} rounds (req/s) |`);
    out.push(
      `| --- | ---: | ---: |${sc.compare.map(() => ' ---: |').join('')} ---: | ---: | ---: | ---: |${' ---: |'.repeat(hitCols)} --- |`,
    );
    for (const t of sc.targets) {
      const vs = sc.compare.map((c) => ` ${fmt(t.vs[c] ?? Number.NaN, 2)} |`).join('');
      out.push(
        `| ${t.name} | ${fmt(t.rps)} | ${fmt(t.ratio, 2)} |${vs} ${fmt(t.p50Ms, 2)} | ${fmt(t.p90Ms, 2)} | ${fmt(t.p99Ms, 2)} | ${t.errors} |${hit ? ` ${percent(t.hitRatio)} | ${percent(t.simulatedHitRatio)} | ${percent(t.optimalHitRatio)} |` : ''}${recurring ? ` ${percent(t.recurringHitRatio)} | ${percent(t.simulatedRecurringHitRatio)} | ${percent(t.optimalRecurringHitRatio)} |` : ''} ${t.rounds.join(', ')} |`,
      );
    }
    for (const s of sc.skipped) out.push(`| ${s.name} | skipped: ${s.reason} |${' |'.repeat(6 + sc.compare.length + hitCols)}`);
    if (recurring) {
      const oneOff = sc.targets.reduce((a, t) => a + (t.simulatedOneOffHits ?? 0), 0);
      out.push(
        '',
        `Recurring requests: those for keys other than the scans' one-off ones, which no policy can hit; the measured hits are counted against them, which holds while the offline replays hit no one-off key (they hit ${oneOff}).`,
      );
    }
    out.push('');
  }
  if (run.staleness) {
    const st = run.staleness;
    out.push('### Coherence: staleness with INVALIDATION=tracking (1,000 keys cached; about 1,000 SETs a second watched)', '');
    out.push(
      '| SET/s | SETs acknowledged | watched | p50 ms | p99 ms | max ms | stale answers seen |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const r of st.results)
      out.push(`| ${r.rate} | ${r.sets} | ${r.measured} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.max, 2)} | ${r.staleAnswers} |`);
    out.push(
      '',
      `Hit path with tracking ÷ with ttl (median of ${st.rounds} alternating rounds): ${fmt(st.ratio, 3)}; tracking ${st.trackingRps.map((x) => fmt(x)).join(', ')} req/s, ttl ${st.ttlRps.map((x) => fmt(x)).join(', ')} req/s.`,
      '',
    );
  }
  if (run.resp) {
    out.push(
      '### RESP: redis-benchmark GET and MGET (10 keys), every key cached, 50 clients',
      '',
      `Medians of ${run.respRounds ?? run.rounds} interleaved rounds; ratios: median over rounds of X ÷ Redis in the same round. The Node ceiling is one Node thread framing each command and answering fixed bytes (\`benchmarks/servers/resp-bare.ts\`): no cache, no hop.`,
      '',
    );
    out.push(
      '| test | pipeline | Redis req/s | Node ceiling req/s | ceiling ÷ Redis | proxy req/s | proxy ÷ Redis | proxy ÷ ceiling |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const r of run.resp)
      out.push(
        `| ${r.test} | ${r.pipeline} | ${fmt(r.redisRps)} | ${fmt(r.ceilingRps)} | ${fmt(r.ceilingRatio, 2)} | ${fmt(r.proxyRps)} | ${fmt(r.ratio, 2)} | ${fmt(r.vsCeiling, 2)} |`,
      );
    out.push('');
  }
  return out.join('\n');
}

/** A horizontal grouped bar chart: one group per label, one bar per series. */
export function barChart(title: string, unit: string, labels: string[], series: { name: string; values: number[] }[]): string {
  const colors = ['#4c78a8', '#f58518', '#54a24b', '#e45756'];
  const barH = 14;
  const groupH = series.length * barH + 10;
  const left = 260;
  const width = 760;
  const top = 40;
  const height = top + labels.length * groupH + 30;
  const max = Math.max(1e-9, ...series.flatMap((s) => s.values.filter(Number.isFinite)));
  const scale = (width - left - 80) / max;
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  for (const [j, s] of series.entries())
    parts.push(
      `<rect x="${left + j * 120}" y="26" width="10" height="10" fill="${colors[j % 4]}"/><text x="${left + j * 120 + 14}" y="35">${esc(s.name)}</text>`,
    );
  labels.forEach((label, i) => {
    const y = top + i * groupH;
    parts.push(`<text x="${left - 6}" y="${y + groupH / 2}" text-anchor="end">${esc(label)}</text>`);
    series.forEach((s, j) => {
      const v = s.values[i]!;
      const w = Number.isFinite(v) ? v * scale : 0;
      parts.push(`<rect x="${left}" y="${y + j * barH}" width="${w.toFixed(1)}" height="${barH - 2}" fill="${colors[j % 4]}"/>`);
      parts.push(`<text x="${left + w + 4}" y="${y + j * barH + barH - 4}">${fmt(v, v < 10 ? 2 : 0)} ${unit}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}

const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

/**
 * Writes the run into `dir` and, for a complete run (no --only, no
 * --quick), replaces the README's table between the bench markers, so the
 * README always shows the latest full run and never a hand-copied figure.
 */
export function writeReport(dir: string, run: RunResult, readme?: string): void {
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(run, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.md'), `${markdown(run)}\n`);
  if (readme !== undefined) {
    const text = readFileSync(readme, 'utf8');
    const a = text.indexOf(START);
    const b = text.indexOf(END);
    if (a >= 0 && b > a)
      writeFileSync(readme, `${text.slice(0, a + START.length)}\n${markdown(run).replace(/^### /gm, '#### ')}\n${text.slice(b)}`);
  }
  const sweep = run.scenarios.find((s) => s.id === 'sweep');
  if (sweep) {
    writeFileSync(
      join(dir, 'throughput-by-threads.svg'),
      barChart(
        'Hit-path throughput by ACCEPTORS × SHARDS (req/s, median of rounds)',
        'req/s',
        sweep.targets.map((t) => t.name),
        [{ name: 'req/s', values: sweep.targets.map((t) => t.rps) }],
      ),
    );
  }
  for (const sc of run.scenarios) {
    writeFileSync(
      join(dir, `latency-${sc.id}.svg`),
      barChart(
        `Latency: ${sc.title}`,
        'ms',
        sc.targets.map((t) => t.name),
        [
          { name: 'p50', values: sc.targets.map((t) => t.p50Ms) },
          { name: 'p90', values: sc.targets.map((t) => t.p90Ms) },
          { name: 'p99', values: sc.targets.map((t) => t.p99Ms) },
        ],
      ),
    );
  }
}
