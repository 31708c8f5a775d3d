/**
 * `npm run profile [-- --miss | --resp] [--seconds=N] [--out=DIR]`:
 * profiles shardcache under wrk load, in two passes, because V8's tick log
 * (`--prof`, which clinic flame reads) and its CPU profiler (`--cpu-prof`)
 * spoil each other when one process runs both:
 *
 * 1. `clinic flame -- node dist/src/main.js` with the default settings and
 *    RESP_PORT: a flame graph of the main thread (acceptor 0).
 * 2. `node --cpu-prof dist/src/main.js`: one V8 profile per thread, every
 *    acceptor and shard included, named by the start-up `threads:` line.
 *
 * `--resp` runs pass 2 only, under `redis-benchmark` GET at pipeline 1
 * (50 clients, 100k cached keys, about `seconds` × 20k commands) on the RESP
 * port. Each thread's busiest functions by self time are printed.
 *
 * Exits 1 with one line saying why when a profiled process dies, the load
 * gets no successful answer, or a file is missing; on success it prints the
 * requests served and where each file is, and a last `PROFILE_JSON` line.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, startRedis, stopProcess } from '../test/helpers/processes.js';
import { topFunctions } from './lib/cpuprofile.js';
import { cycleTrace, loadKeys, writePaths } from './lib/data.js';
import { loadRespKeys, redisBenchmark, warmThroughResp } from './lib/resp-load.js';
import { runWrk } from './lib/wrk.js';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const miss = process.argv.includes('--miss');
const resp = process.argv.includes('--resp');
const RESP_KEYS = 100_000;
const SECONDS = Number(arg('seconds') ?? 10);
const OUT = arg('out') ?? join(ROOT, 'benchmarks/results/profile');
const NODE = join(ROOT, 'node_modules/.bin/node');

/** A profiling step that went wrong: the message is the one line printed. */
class Failed extends Error {}

/** What a pass served: wrk's requests, and those answered with an error or not at all. */
interface Served {
  requests: number;
  errors: number;
}

function checkServed(what: string, served: Served): void {
  if (served.requests - served.errors <= 0)
    throw new Failed(`${what}: the load got no successful answer (${served.requests} requests, ${served.errors} errors)`);
}

/** Pass 1: clinic flame over the whole process; returns the flame graph's path and what wrk saw. */
async function flame(env: NodeJS.ProcessEnv, paths: string, work: string): Promise<{ html: string; served: Served }> {
  const wrkOut = join(work, 'wrk-flame.txt');
  const load = `wrk -t1 -c64 -d${SECONDS}s --timeout 5s -s ${join(ROOT, 'benchmarks/lib/paths.lua')} http://127.0.0.1:$PORT -- ${paths} 0 > ${wrkOut} 2>&1`;
  const dest = join(OUT, 'flame');
  rmSync(dest, { recursive: true, force: true });
  const args = ['flame', '--open=false', '--dest', dest, '--on-port', load, '--', NODE, 'dist/src/main.js'];
  let log = '';
  const code = await new Promise<number | null>((resolve) => {
    // PATH: clinic processes the tick log with the `node` it finds, which must be the one that wrote it.
    const child = spawn(join(ROOT, 'node_modules/.bin/clinic'), args, {
      cwd: ROOT,
      env: { ...env, PATH: `${join(ROOT, 'node_modules/.bin')}:${env.PATH}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    child.once('exit', resolve);
  });
  const subprocess = /Target subprocess error, code: (\d+)/.exec(log);
  if (subprocess !== null) throw new Failed(`clinic flame: the profiled proxy died (exit ${subprocess[1]}): ${lastLines(log)}`);
  if (code !== 0) throw new Failed(`clinic flame exited with ${code}: ${lastLines(log)}`);
  const json = /WRK_JSON (\{.*\})/.exec(existsSync(wrkOut) ? readFileSync(wrkOut, 'utf8') : '');
  if (json === null) throw new Failed(`clinic flame: wrk left no result (${wrkOut})`);
  const r = JSON.parse(json[1]!) as { requests: number; errors: Record<string, number> };
  const served = { requests: r.requests, errors: Object.values(r.errors).reduce((a, b) => a + b, 0) };
  checkServed('clinic flame', served);
  const html = readdirSync(dest).find((f) => f.endsWith('.clinic-flame.html'));
  if (html === undefined) throw new Failed(`clinic flame wrote no flame graph into ${dest}`);
  // The main thread is acceptor 0: a graph without the HTTP front was drawn from another thread's tick log.
  if (!readFileSync(join(dest, html), 'latin1').includes('acceptor/http/front.js'))
    throw new Failed(`clinic flame drew another thread's tick log (no acceptor/http/front.js in ${html})`);
  // The other threads' tick logs, which the proxy moved aside (src/control/profiling.ts), go with the flame graph.
  const threads = `isolate-${html.split('.', 1)[0]}-threads`;
  if (existsSync(join(ROOT, threads))) renameSync(join(ROOT, threads), join(dest, threads));
  return { html: join(dest, html), served };
}

/** The proxy's ports, from its start-up log. */
interface Ports {
  http: string;
  resp: number;
  admin: string;
}

/** Pass 2: every thread's V8 profile under `load`; returns them by thread name, and what the load saw. */
async function perThread(
  env: NodeJS.ProcessEnv,
  load: (ports: Ports) => Promise<Served>,
): Promise<{ profiles: Record<string, string>; served: Served }> {
  const dir = join(OUT, 'cpu');
  const child = spawn(NODE, ['--cpu-prof', `--cpu-prof-dir=${dir}`, 'dist/src/main.js'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  try {
    const ports = await new Promise<Ports>((resolve, reject) => {
      const check = (): void => {
        const http = /shardcache listening on http:\/\/[^:]+:(\d+)/.exec(log)?.[1];
        const respPort = /RESP listening on redis:\/\/[^:]+:(\d+)/.exec(log)?.[1];
        const admin = /admin listening on (http:\/\/[^ ]+:\d+)/.exec(log)?.[1];
        if (http !== undefined && respPort !== undefined && admin !== undefined) resolve({ http, resp: Number(respPort), admin });
      };
      child.stderr.on('data', check);
      child.once('exit', (code) => reject(new Failed(`the proxy exited with ${code} before listening: ${lastLines(log)}`)));
    });
    const served = await load(ports);
    checkServed('per-thread pass', served);
    const code = await stopProcess(child, 15000);
    if (code !== 0) throw new Failed(`the proxy exited with ${code} after the per-thread pass: ${lastLines(log)}`);
    return { profiles: profilesByThread(log, dir, child.pid!), served };
  } finally {
    await stopProcess(child);
  }
}

/** Maps `CPU.<date>.<time>.<pid>.<threadId>.<n>.cpuprofile` files to thread names by the proxy's `threads:` log line. */
function profilesByThread(log: string, dir: string, pid: number): Record<string, string> {
  const line = /"msg":"threads: ([^"]*)"/.exec(log)?.[1];
  if (line === undefined) throw new Failed('the proxy logged no threads: line');
  const files = existsSync(dir) ? readdirSync(dir) : [];
  const out: Record<string, string> = {};
  for (const m of line.matchAll(/(?:shardcache = )?([a-z]+-\d+) \(thread (\d+),/g)) {
    const file = files.find((f) => new RegExp(`^CPU\\.\\d+\\.\\d+\\.${pid}\\.${m[2]}\\.\\d+\\.cpuprofile$`).test(f));
    if (file === undefined) throw new Failed(`no CPU profile for ${m[1]} (thread ${m[2]}) in ${dir}`);
    out[m[1]!] = join(dir, file);
  }
  return out;
}

/**
 * The `--resp` load: every key read once, then redis-benchmark GET at
 * pipeline 1; the GETs the proxy answered `ok` (from its metrics) are the
 * ones served, the rest errors.
 */
async function respLoad({ resp: port, admin }: Ports): Promise<Served> {
  await warmThroughResp(port, RESP_KEYS);
  const requests = SECONDS * 20000;
  await redisBenchmark(port, 'GET', 1, { keys: RESP_KEYS, requests, clients: 50 });
  const metrics = await (await fetch(`${admin}/metrics`)).text();
  const ok = Number(/^shardcache_requests_total\{protocol="resp",command="GET",status="ok"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
  return { requests, errors: Math.max(0, requests - ok) };
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ').slice(0, 600);
}

async function main(): Promise<void> {
  const teardowns: (() => unknown)[] = [];
  const work = mkdtempSync(join(tmpdir(), 'shardcache-profile-'));
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  try {
    const redis = await startRedis({ teardown: (fn) => teardowns.push(fn) });
    // Without NO_INSIGHT clinic asks about telemetry and, with no TTY, silently does nothing.
    const env = {
      ...process.env,
      NO_INSIGHT: '1',
      REDIS_URL: redis.url,
      PORT: '0',
      ADMIN_PORT: '0',
      RESP_PORT: '0',
      ...(miss ? { CACHE_CAPACITY: '0' } : {}),
    };
    let f: { html: string; served: Served } | undefined;
    let p: { profiles: Record<string, string>; served: Served };
    if (resp) {
      await loadRespKeys(redis, RESP_KEYS);
      p = await perThread(env, respLoad);
    } else {
      await loadKeys(redis.client, 10000, 100);
      const paths = writePaths(work, 'profile', cycleTrace(10000), 100, 'plain');
      f = await flame(env, paths, work);
      p = await perThread(env, async ({ http }) => {
        const r = await runWrk({ url: `http://127.0.0.1:${http}`, pathsFile: paths, connections: 64, seconds: SECONDS });
        return { requests: r.requests, errors: r.errors };
      });
      console.log(`\nflame graph (main thread = acceptor 0), ${f.served.requests} requests served (${f.served.errors} errors): ${f.html}`);
    }
    console.log(`per-thread V8 profiles, ${p.served.requests} ${resp ? 'RESP GETs' : 'requests'} served (${p.served.errors} errors):`);
    for (const [thread, file] of Object.entries(p.profiles)) {
      const { busyMs, top } = topFunctions(file, 8);
      console.log(
        `  ${thread.padEnd(12)} ${file}\n    busy ${busyMs.toFixed(0)} ms, ${((busyMs * 1000) / Math.max(1, p.served.requests)).toFixed(2)} µs per request; by self time:`,
      );
      for (const fn of top) console.log(`    ${(fn.share * 100).toFixed(1).padStart(5)}%  ${fn.name}`);
    }
    console.log(
      `PROFILE_JSON ${JSON.stringify({ ...(f ? { html: f.html, flameServed: f.served } : {}), profiles: p.profiles, threadServed: p.served })}`,
    );
  } finally {
    for (const fn of teardowns.reverse()) await fn();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(`profile failed: ${err instanceof Failed ? err.message : err.stack}`);
  process.exitCode = 1;
});
