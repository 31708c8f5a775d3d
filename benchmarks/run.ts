/**
 * `npm run bench [-- --quick]`: starts a private redis-server and every
 * target, loads the data, warms the caches, drives interleaved rounds of
 * load with wrk, stops everything it started, and writes
 * benchmarks/results/ (JSON, Markdown table, SVG charts).
 *
 * Ratios are taken round by round against a baseline measured in the same
 * round, and the median ratio is reported: this 2-core machine drifts ±25%
 * between runs, far more than within one round.
 *
 * Its flags: lib/flags.ts. The benchmarks it runs as child processes
 * (staleness, memory, bcast, stampede, tls, typed): lib/children.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, startRedis } from '../test/helpers/processes.js';
import { medianCpu, perRequest, snapshot, type CpuPerRequest } from './lib/cpu.js';
import { keyName, loadKeys, writePaths } from './lib/data.js';
import { Replay, hitRatios, simulate } from './lib/replay.js';
import { writeReport } from './lib/report.js';
import type { ScenarioResult, TargetResult } from './lib/results.js';
import { respBench, type RespRow } from './lib/resp.js';
import type { Scenario } from './lib/scenario.js';
import { BARS, scenarios } from './lib/scenarios.js';
import { median } from './lib/stats.js';
import type { StalenessSummary } from './staleness.js';
import { bare, type BenchEnv, type Running, type Target } from './lib/targets.js';
import { runAutocannon } from './lib/autocannon.js';
import { runWrk, type LoadResult } from './lib/wrk.js';
import { only, quick, ROUNDS, SECONDS } from './lib/flags.js';
import { runChildBenches, runStaleness } from './lib/children.js';

/** redis-benchmark rounds are long already (a fixed request count per run). */
const RESP_ROUNDS = quick ? 2 : 3;
const WARM_SECONDS = quick ? 1 : 3;
const CONNECTIONS = 64;

function missingPeer(bin: string): string | undefined {
  try {
    execFileSync('which', [bin], { stdio: 'ignore' });
    return undefined;
  } catch {
    return `${bin} not installed (run benchmarks/setup.sh)`;
  }
}

const scenarioList = scenarios(quick, only);

/**
 * Keys Redis has looked up so far (keyspace hits plus misses): one per key
 * whether a target reads with GET or with MGET, so every target's hit ratio
 * is counted the same way.
 */
async function keyLookups(redis: { info(section: string): Promise<string> }): Promise<number> {
  const stats = await redis.info('stats');
  const count = (name: string): number => Number(new RegExp(`${name}:(\\d+)`).exec(stats)?.[1] ?? 0);
  return count('keyspace_hits') + count('keyspace_misses');
}

/**
 * The mean pause per connection that puts the paced run at `fraction` of
 * the target's peak: the peak measured earlier in this run, or measured now
 * (unpaced) when the paced scenario runs alone. Kept fractional: the wrk
 * script rounds each delay at random, so the mean rate is the one asked for.
 */
async function paceFor(
  paced: NonNullable<Scenario['paced']>,
  peaks: Map<string, number>,
  targets: readonly { target: Target; proc: Running }[],
  measure: (proc: Running) => Promise<LoadResult>,
): Promise<number> {
  let peak = peaks.get(`${paced.of}/${paced.target}`);
  const own = targets.find(({ target }) => target.name === paced.target);
  if (peak === undefined && own !== undefined) {
    peak = (await measure(own.proc)).rps;
    console.log(`peak of ${paced.target} (unpaced, for the pace): ${peak.toFixed(0)} req/s`);
  }
  return Number(((CONNECTIONS / ((peak ?? 20000) * paced.fraction)) * 1000).toFixed(3));
}

/** The targets of the scenario under way. */
const running: { target: Target; proc: Running }[] = [];

async function main(): Promise<void> {
  // One generator for the whole run: wrk, or autocannon where wrk cannot be had.
  const noWrk = process.argv.includes('--autocannon') ? '--autocannon given' : missingPeer('wrk');
  const generator = noWrk === undefined ? 'wrk' : 'autocannon';
  const load = noWrk === undefined ? runWrk : runAutocannon;
  if (noWrk) console.log(`${noWrk}: using autocannon for every target of this run`);
  const work = mkdtempSync(join(tmpdir(), 'shardcache-bench-'));
  const teardowns: (() => unknown)[] = [];
  const t = { teardown: (fn: () => unknown) => teardowns.push(fn) };
  // Interrupted: stop every process this run started before going.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void Promise.all(running.map(({ proc }) => proc.stop()))
        .then(async () => {
          for (const fn of teardowns.reverse()) await fn();
        })
        .finally(() => process.exit(130));
    });
  }
  const results: ScenarioResult[] = [];
  const peaks = new Map<string, number>();
  let resp: RespRow[] | undefined;
  let staleness: StalenessSummary | undefined;
  try {
    const redis = await startRedis(t);
    const loaded = new Set<string>();
    for (const sc of scenarioList) {
      console.log(`\n== ${sc.title}`);
      const dataId = `${sc.valueBytes}:${sc.keys}`;
      if (!loaded.has(dataId)) {
        const started = Date.now();
        await loadKeys(redis.client, sc.keys, sc.valueBytes);
        loaded.add(dataId);
        console.log(`loaded ${sc.keys} keys of ${sc.valueBytes} B in ${Date.now() - started} ms`);
      }
      if (sc.expireSeconds !== undefined)
        await redis.client.eval(
          `for i = 0, ARGV[1] - 1 do redis.call('EXPIRE', ARGV[2] .. i, ARGV[3]) end`,
          0,
          sc.keys,
          keyName(sc.valueBytes, 0).slice(0, -1),
          sc.expireSeconds,
        );
      const trace = sc.trace();
      const files = {
        plain: writePaths(work, sc.id, trace, sc.valueBytes, 'plain'),
        webdis: writePaths(work, sc.id, trace, sc.valueBytes, 'webdis'),
      };
      const env: BenchEnv = {
        redisUrl: redis.url,
        redisPort: redis.port,
        capacity: sc.capacity,
        ttlMs: 300000,
        valueBytes: sc.valueBytes,
        varnishStorage: '256m',
      };
      running.length = 0;
      const skipped: { name: string; reason: string }[] = [];
      for (const target of sc.targets) {
        try {
          running.push({ target, proc: await target.start(env) });
        } catch (err) {
          const reason = (err as Error).message.split('\n')[0]!;
          skipped.push({ name: target.name, reason });
          console.log(`skipped ${target.name}: ${reason}`);
        }
      }
      try {
        // Hit-ratio scenarios replay the trace continuously per target (lib/replay.ts).
        const replay = sc.hitRatio === true ? new Replay(trace.length) : undefined;
        for (const { target, proc } of running)
          replay?.advance(
            target.name,
            (
              await load({
                url: proc.url,
                ...(proc.headers ? { headers: proc.headers } : {}),
                pathsFile: files[proc.style],
                connections: CONNECTIONS,
                seconds: WARM_SECONDS,
                startAt: replay?.startOf(target.name),
              })
            ).requests,
            false,
          );
        const pace = sc.paced
          ? await paceFor(sc.paced, peaks, running, (proc) =>
              load({
                url: proc.url,
                ...(proc.headers ? { headers: proc.headers } : {}),
                pathsFile: files[proc.style],
                connections: CONNECTIONS,
                seconds: SECONDS,
              }),
            )
          : 0;
        const rounds = new Map<string, LoadResult[]>(running.map(({ target }) => [target.name, []]));
        const lookups = new Map<string, number[]>(running.map(({ target }) => [target.name, []]));
        const cpu = new Map<string, CpuPerRequest[]>(running.map(({ target }) => [target.name, []]));
        for (let round = 0; round < ROUNDS; round++) {
          // Rotate the order each round so no target always runs first.
          for (let k = 0; k < running.length; k++) {
            const { target, proc } = running[(k + round) % running.length]!;
            // The bare ceiling never asks Redis: it has no hit ratio.
            const countHits = sc.hitRatio === true && target !== bare;
            const before = countHits ? await keyLookups(redis.client) : 0;
            const cpuBefore = snapshot(proc.pids);
            const r = await load({
              url: proc.url,
              ...(proc.headers ? { headers: proc.headers } : {}),
              pathsFile: files[proc.style],
              connections: CONNECTIONS,
              seconds: SECONDS,
              pauseMs: pace,
              startAt: replay?.startOf(target.name),
            });
            replay?.advance(target.name, r.requests, true);
            cpu.get(target.name)!.push(perRequest(cpuBefore, snapshot(proc.pids), r.requests));
            if (countHits) lookups.get(target.name)!.push((await keyLookups(redis.client)) - before);
            rounds.get(target.name)!.push(r);
            const c = cpu.get(target.name)!.at(-1)!;
            console.log(
              `round ${round + 1} ${target.name.padEnd(40)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  errors ${r.errors}  cpu ${c.totalUs.toFixed(1)} µs/req (busiest ${c.busiest} ${c.busiestUs.toFixed(1)})`,
            );
          }
        }
        const base = rounds.get(sc.baseline);
        const ratioTo = (rs: LoadResult[], other: string): number => {
          const o = rounds.get(other);
          return o ? median(rs.map((r, i) => r.rps / o[i]!.rps)) : Number.NaN;
        };
        const targets: TargetResult[] = running.map(({ target }) => {
          const rs = rounds.get(target.name)!;
          return {
            name: target.name,
            rps: median(rs.map((r) => r.rps)),
            ratio: base ? ratioTo(rs, sc.baseline) : Number.NaN,
            vs: Object.fromEntries((sc.compare ?? []).map((other) => [other, ratioTo(rs, other)])),
            p50Ms: median(rs.map((r) => r.p50Ms)),
            p90Ms: median(rs.map((r) => r.p90Ms)),
            p99Ms: median(rs.map((r) => r.p99Ms)),
            errors: rs.reduce((a, r) => a + r.errors, 0),
            requests: rs.reduce((a, r) => a + r.requests, 0),
            ...(lookups.get(target.name)!.length > 0
              ? hitRatios(
                  rs.map((r) => r.requests),
                  lookups.get(target.name)!,
                  simulate(
                    target.eviction ?? 'lru',
                    trace,
                    sc.capacity,
                    replay!.segments(target.name),
                    (i) => keyName(sc.valueBytes, i),
                    sc.oneOffFrom,
                  ),
                  sc.oneOffFrom !== undefined,
                )
              : {}),
            rounds: rs.map((r) => Math.round(r.rps)),
            p99Rounds: rs.map((r) => r.p99Ms),
            cpuRounds: cpu.get(target.name)!,
            cpu: medianCpu(cpu.get(target.name)!)!,
          };
        });
        // Keyed by scenario too: 'shardcache' is a target of several scenarios.
        for (const r of targets) peaks.set(`${sc.id}/${r.name}`, r.rps);
        results.push({
          id: sc.id,
          title: sc.title,
          baseline: sc.baseline,
          compare: sc.compare ?? [],
          ...(pace ? { pauseMs: pace } : {}),
          targets,
          skipped,
        });
      } finally {
        for (const { proc } of running) await proc.stop();
      }
    }
    if (only === undefined || only.includes('staleness')) {
      console.log('\n== Coherence: staleness under writes, and what tracking costs on the hit path');
      staleness = runStaleness(quick);
    }
    runChildBenches(only, quick);
    if (only === undefined || only.includes('resp')) {
      const missing = missingPeer('redis-benchmark');
      if (missing) console.log(`skipped the RESP scenario: ${missing}`);
      else {
        console.log('\n== RESP: redis-benchmark through the proxy and straight at Redis');
        resp = await respBench(redis, { keys: quick ? 10000 : 100000, requests: quick ? 50000 : 200000, clients: 50, rounds: RESP_ROUNDS });
      }
    }
  } finally {
    for (const fn of teardowns.reverse()) await fn();
    rmSync(work, { recursive: true, force: true });
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`;
  const outDir = join(ROOT, 'benchmarks/results');
  mkdirSync(outDir, { recursive: true });
  writeReport(
    outDir,
    {
      date: new Date().toISOString(),
      machine,
      generator,
      quick,
      rounds: ROUNDS,
      seconds: SECONDS,
      connections: CONNECTIONS,
      scenarios: results,
      ...(resp ? { resp, respRounds: RESP_ROUNDS } : {}),
      ...(staleness ? { staleness } : {}),
      bars: BARS,
    },
    quick || only !== undefined ? undefined : join(ROOT, 'README.md'),
  );
  console.log(`\nwrote ${outDir}/latest.{json,md} and charts`);
}

main().catch((err: Error) => {
  console.error(`bench failed: ${err.message}`);
  process.exitCode = 1;
});
