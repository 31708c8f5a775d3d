/**
 * `npm run bench:status [-- --quick]`: what the status page costs.
 *
 * 1. The main thread's work per read, in this process: building the
 *    `/stats.json` snapshot (and its JSON), and rendering the page as first
 *    sent, for proxies of 1 × 1 up to the largest allowed (64 acceptors ×
 *    256 shards), with every thread's CPU time read from /proc as the real
 *    snapshot does. Median over rounds of the time per build.
 * 2. The hit path with and without ten open pages: wrk (64 connections,
 *    10k cached keys of 100 B) against one proxy, in alternating rounds
 *    with ten pollers reading /stats.json once a second each (what ten open
 *    pages do) and without; the median of the per-round ratios is reported.
 *
 * Starts its own redis-server and proxy on free ports and stops them by pid.
 * Run it under the CPU lock: the second part saturates the machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { snapshotJson, takeSnapshot } from '../src/control/stats-snapshot.js';
import { statusPage } from '../src/control/status-page.js';
import { AcceptorStat } from '../src/metrics/acceptor-stats.js';
import { Stat } from '../src/metrics/shard-stats.js';
import { nameThread } from '../src/metrics/thread.js';
import { startProxy, startRedis } from '../test/helpers/processes.js';
import { facts, settings, sources } from '../test/helpers/snapshot.js';
import { cycleTrace, loadKeys, writePaths } from './lib/data.js';
import { median } from './lib/stats.js';
import { runWrk } from './lib/wrk.js';
import { sleep } from '../test/helpers/time.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 5;
const WRK_SECONDS = quick ? 3 : 6;
const PAGES = 10;

const stoppers: (() => unknown)[] = [];
const owner = { teardown: (fn: () => unknown): void => void stoppers.push(fn) };

/** Microseconds per call of `fn`: the median over rounds of `n` calls each. */
function timePerCall(fn: () => unknown, n: number): number {
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const started = performance.now();
    for (let i = 0; i < n; i++) fn();
    rounds.push(((performance.now() - started) * 1000) / n);
  }
  return median(rounds);
}

function buildCost(): string[] {
  // Every slot's thread id is this thread's, so that each figure is a real /proc read.
  const tid = nameThread('status-bench');
  const lines = ['| acceptors × shards | snapshot + JSON, µs | page as first sent, µs |', '| ---: | ---: | ---: |'];
  for (const [a, s] of [
    [1, 1],
    [2, 2],
    [8, 2],
    [64, 256],
  ] as const) {
    const src = sources(a, s);
    for (const x of src.acceptorStats) x[AcceptorStat.Tid] = tid;
    for (const x of src.shardStats) x[Stat.Tid] = tid;
    const f = facts({ settings: settings({ acceptors: a, shards: s }) });
    const n = a * s > 100 ? 50 : 2000;
    const json = timePerCall(() => snapshotJson(src, f, 0)(), n);
    const page = timePerCall(() => statusPage(takeSnapshot(src, f)), n);
    lines.push(`| ${a} × ${s} | ${json.toFixed(0)} | ${page.toFixed(0)} |`);
  }
  return lines;
}

async function hitPathCost(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'status-cost-'));
  stoppers.push(() => rmSync(dir, { recursive: true, force: true }));
  const redis = await startRedis(owner);
  const proxy = await startProxy(owner, { REDIS_URL: redis.url, CACHE_TTL_MS: '600000' });
  await loadKeys(redis.client, 10000, 100);
  const paths = writePaths(dir, 'hit', cycleTrace(10000), 100, 'plain');
  await runWrk({ url: proxy.url, pathsFile: paths, connections: 64, seconds: 2 }); // warm: every key cached
  const admin = new Agent({ connections: PAGES });
  stoppers.push(() => admin.close());
  const ratios: number[] = [];
  const rps: Record<'pages' | 'none', number[]> = { pages: [], none: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? (['none', 'pages'] as const) : (['pages', 'none'] as const);
    const round: Partial<Record<'pages' | 'none', number>> = {};
    for (const mode of order) {
      let polling = mode === 'pages';
      const pollers = Array.from({ length: PAGES }, async (_, i) => {
        await sleep((1000 * i) / PAGES); // pages opened at different moments
        while (polling) {
          const res = await request(`${proxy.admin}/stats.json`, { dispatcher: admin });
          await res.body.text();
          await sleep(1000);
        }
      });
      const res = await runWrk({ url: proxy.url, pathsFile: paths, connections: 64, seconds: WRK_SECONDS });
      polling = false;
      await Promise.all(pollers);
      if (res.errors > 0) throw new Error(`${mode}: ${res.errors} errors under wrk`);
      round[mode] = res.rps;
      rps[mode].push(res.rps);
    }
    ratios.push(round.pages! / round.none!);
  }
  return [
    `Hit path (10k keys of 100 B, all cached; wrk -c 64; ${ROUNDS} alternating rounds of ${WRK_SECONDS} s), default threads:`,
    '',
    `- with ${PAGES} pages open: ${rps.pages.map((x) => x.toFixed(0)).join(', ')} req/s`,
    `- without: ${rps.none.map((x) => x.toFixed(0)).join(', ')} req/s`,
    `- median of the per-round ratios (pages ÷ none): ${median(ratios).toFixed(3)}`,
  ];
}

try {
  const out = [
    `# Status page cost, ${new Date().toISOString()}, Node ${process.version}`,
    '',
    ...buildCost(),
    '',
    ...(await hitPathCost()),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  for (const fn of stoppers.reverse()) await fn();
}
