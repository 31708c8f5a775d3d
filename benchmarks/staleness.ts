/**
 * `node dist/benchmarks/staleness.js [--quick]`: how stale the proxy is with
 * INVALIDATION=tracking, and what tracking costs on the hit path.
 *
 * Staleness: a writer SETs keys in Redis at a fixed rate (1k and 10k SET/s)
 * while every key is cached in the proxy (CACHE_TTL_MS is ten minutes, so
 * only invalidation can bring a new value). After each SET is acknowledged,
 * a reader asks the proxy for that key until it answers the new value (or a
 * later one). Staleness is the time from the acknowledgement to the end of
 * the first answer carrying it: an upper bound, since it includes one HTTP
 * round trip and this process's own queueing.
 *
 * Watching every SET at 10k SET/s makes this process send 10k+ reads a
 * second besides the writes, and on a small machine its own queueing then
 * dominates the figure. `--watch-per-second=N` watches only about N SETs a
 * second (evenly spread), keeping the reads light while the write rate stays.
 *
 * Hit-path cost: wrk reads cached keys from a proxy with
 * INVALIDATION=tracking and one with INVALIDATION=ttl, in alternating
 * rounds; the median of the per-round ratios is reported.
 *
 * Starts its own redis-server and proxies on free ports and stops them by
 * pid. Run it under the CPU lock (see HELPERS.md): it saturates the machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Agent, request } from 'undici';
import { startProxy, startRedis, type Proxy } from '../test/helpers/processes.js';
import { cycleTrace, loadKeys, writePaths } from './lib/data.js';
import { median } from './lib/stats.js';
import { runWrk } from './lib/wrk.js';
import { sleep } from '../test/helpers/time.js';

const quick = process.argv.includes('--quick');
const KEYS = 1000;
const WRITE_SECONDS = quick ? 2 : 5;
const ROUNDS = quick ? 2 : 5;
const WRK_SECONDS = quick ? 3 : 6;
const READERS = 32;
const watchArg = process.argv.find((a) => a.startsWith('--watch-per-second='));
/** SETs watched per second at most; Infinity: every SET. */
const WATCH_PER_SECOND = watchArg === undefined ? Number.POSITIVE_INFINITY : Number(watchArg.slice(19));
if (!(WATCH_PER_SECOND > 0)) throw new Error(`--watch-per-second must be a positive number, not ${watchArg}`);

/** Collects teardowns of the processes started here. */
const stoppers: (() => unknown)[] = [];
const owner = { teardown: (fn: () => unknown): void => void stoppers.push(fn) };

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export interface Staleness {
  rate: number;
  sets: number;
  measured: number;
  p50: number;
  p99: number;
  max: number;
  staleAnswers: number;
}

/**
 * SETs at `rate` per second for `seconds`; measures each SET's staleness
 * through `proxy`, watching about `watchPerSecond` SETs a second (also
 * used by benchmarks/tracking-modes.ts).
 */
export async function staleness(
  proxy: Proxy,
  redis: Awaited<ReturnType<typeof startRedis>>,
  rate: number,
  seconds: number,
  watchPerSecond = WATCH_PER_SECOND,
): Promise<Staleness> {
  const http = new Agent({ connections: READERS, pipelining: 1 });
  const keys = Array.from({ length: KEYS }, (_, i) => `stale:${i}`);
  await redis.client.mset(...keys.flatMap((k) => [k, '0']));
  for (let i = 0; i < KEYS; i += 100) await Promise.all(keys.slice(i, i + 100).map((k) => read(http, proxy, k)));

  const lags: number[] = [];
  let staleAnswers = 0;
  let sets = 0;
  let seq = 0;
  let watching = 0;
  const watch = async (i: number, want: number, acked: number): Promise<void> => {
    watching++;
    try {
      for (;;) {
        const got = Number(await read(http, proxy, keys[i]!));
        if (got >= want) {
          lags.push(performance.now() - acked);
          return;
        }
        staleAnswers++;
        if (performance.now() - acked > 5000) return; // counted as stale, never seen: shows in the report
      }
    } finally {
      watching--;
    }
  };
  const perTick = rate / 100;
  const watchEvery = Math.max(1, Math.round(rate / watchPerSecond));
  let owed = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (performance.now() - started >= seconds * 1000) {
        clearInterval(timer);
        resolve();
        return;
      }
      owed += perTick;
      for (; owed >= 1; owed--) {
        const i = seq % KEYS;
        const want = ++seq;
        redis.client.set(keys[i]!, String(want)).then(() => {
          sets++;
          if (want % watchEvery === 0) void watch(i, want, performance.now());
        });
      }
    }, 10);
  });
  while (watching > 0) await sleep(10);
  await http.close();
  lags.sort((a, b) => a - b);
  return {
    rate,
    sets,
    measured: lags.length,
    p50: percentile(lags, 50),
    p99: percentile(lags, 99),
    max: lags[lags.length - 1] ?? Number.NaN,
    staleAnswers,
  };
}

async function read(http: Agent, proxy: Proxy, key: string): Promise<string> {
  const res = await request(`${proxy.url}/${key}`, { dispatcher: http });
  return await res.body.text();
}

async function main(): Promise<void> {
  const redis = await startRedis(owner);
  const dir = mkdtempSync(join(tmpdir(), 'shardcache-staleness-'));
  owner.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const common = { REDIS_URL: redis.url, CACHE_TTL_MS: '600000' };

  const tracking = await startProxy(owner, { ...common, INVALIDATION: 'tracking' });
  const results: Staleness[] = [];
  for (const rate of [1000, 10000]) results.push(await staleness(tracking, redis, rate, WRITE_SECONDS));

  // Hit path: 10k keys of 100 B, all cached, wrk with 64 connections.
  const ttl = await startProxy(owner, { ...common, INVALIDATION: 'ttl' });
  await loadKeys(redis.client, 10000, 100);
  const paths = writePaths(dir, 'hit', cycleTrace(10000), 100, 'plain');
  for (const proxy of [tracking, ttl]) await runWrk({ url: proxy.url, pathsFile: paths, connections: 64, seconds: 2 }); // warm
  const ratios: number[] = [];
  const rps: Record<string, number[]> = { tracking: [], ttl: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order =
      r % 2 === 0
        ? ([
            ['tracking', tracking],
            ['ttl', ttl],
          ] as const)
        : ([
            ['ttl', ttl],
            ['tracking', tracking],
          ] as const);
    const round: Record<string, number> = {};
    for (const [name, proxy] of order) {
      const res = await runWrk({ url: proxy.url, pathsFile: paths, connections: 64, seconds: WRK_SECONDS });
      if (res.errors > 0) throw new Error(`${name}: ${res.errors} errors under wrk`);
      round[name] = res.rps;
      rps[name]!.push(res.rps);
    }
    ratios.push(round.tracking! / round.ttl!);
  }
  if (!/invalidation tracking/.test(tracking.logs()) || /refused client tracking/.test(tracking.logs()))
    throw new Error('the tracking proxy did not track');

  const ms = (x: number): string => x.toFixed(2);
  const lines = [
    `# Staleness with INVALIDATION=tracking (${KEYS} keys, all cached, CACHE_TTL_MS=600000, ${READERS} reader connections, SHARDS default, ${Number.isFinite(WATCH_PER_SECOND) ? `about ${WATCH_PER_SECOND} SETs watched per second` : 'every SET watched'})`,
    '',
    '| SET/s | SETs acknowledged | measured | p50 ms | p99 ms | max ms | stale answers seen |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...results.map((s) => `| ${s.rate} | ${s.sets} | ${s.measured} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.max)} | ${s.staleAnswers} |`),
    '',
    `# Hit path, tracking vs ttl (10k keys of 100 B, wrk -c 64, ${ROUNDS} alternating rounds of ${WRK_SECONDS} s)`,
    '',
    `tracking req/s: ${rps.tracking!.map((x) => x.toFixed(0)).join(', ')}`,
    `ttl req/s:      ${rps.ttl!.map((x) => x.toFixed(0)).join(', ')}`,
    `median tracking/ttl ratio: ${median(ratios).toFixed(3)} (cost ${((1 - median(ratios)) * 100).toFixed(1)}%)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  // For `npm run bench`, which runs this script last and folds it into its report.
  const summary: StalenessSummary = {
    watchPerSecond: WATCH_PER_SECOND,
    rounds: ROUNDS,
    results,
    trackingRps: rps.tracking!,
    ttlRps: rps.ttl!,
    ratio: median(ratios),
  };
  process.stdout.write(`STALENESS_JSON ${JSON.stringify(summary)}\n`);
}

/** What `npm run bench` reads from this script's last line. */
export interface StalenessSummary {
  watchPerSecond: number;
  rounds: number;
  results: Staleness[];
  trackingRps: number[];
  ttlRps: number[];
  /** Median over rounds of tracking req/s ÷ ttl req/s. */
  ratio: number;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await main();
  } finally {
    for (const fn of stoppers.reverse()) await fn();
  }
}
