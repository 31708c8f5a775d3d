/**
 * `npm run profile [-- --miss] [--seconds=N] [--out=DIR]`: profiles
 * shardcache under wrk load, in two passes, because V8's tick log (`--prof`,
 * which clinic flame reads) and its CPU profiler (`--cpu-prof`) spoil each
 * other when one process runs both:
 *
 * 1. `clinic flame -- node dist/src/main.js` with the default settings and
 *    RESP_PORT: a flame graph of the main thread (acceptor 0).
 * 2. `node --cpu-prof dist/src/main.js`: one V8 profile per thread, every
 *    acceptor and shard included, named by the start-up `threads:` line.
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
import { cycleTrace, loadKeys, writePaths } from './lib/data.js';
import { runWrk } from './lib/wrk.js';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const miss = process.argv.includes('--miss');
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
  if (served.requests - served.errors <= 0) throw new Failed(`${what}: the load got no successful answer (${served.requests} requests, ${served.errors} errors)`);
}

/** Pass 1: clinic flame over the whole process; returns the flame graph's path and what wrk saw. */
async function flame(env: NodeJS.ProcessEnv, paths: string, work: string): Promise<{ html: string; served: Served }> {
  const wrkOut = join(work, 'wrk-flame.txt');
  const load = `wrk -t1 -c64 -d${SECONDS}s --timeout 5s -s ${join(ROOT, 'benchmarks/lib/paths.lua')} http://127.0.0.1:$PORT -- ${paths} 0 > ${wrkOut} 2>&1`;
  const dest = join(OUT, 'flame');
  const args = ['flame', '--open=false', '--dest', dest, '--on-port', load, '--', NODE, 'dist/src/main.js'];
  let log = '';
  const code = await new Promise<number | null>((resolve) => {
    // PATH: clinic processes the tick log with the `node` it finds, which must be the one that wrote it.
    const child = spawn(join(ROOT, 'node_modules/.bin/clinic'), args, { cwd: ROOT, env: { ...env, PATH: `${join(ROOT, 'node_modules/.bin')}:${env.PATH}` }, stdio: ['ignore', 'pipe', 'pipe'] });
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
  // The other threads' tick logs, which the proxy moved aside (src/control/profiling.ts), go with the flame graph.
  const threads = `isolate-${html.split('.', 1)[0]}-threads`;
  if (existsSync(join(ROOT, threads))) renameSync(join(ROOT, threads), join(dest, threads));
  return { html: join(dest, html), served };
}

/** Pass 2: every thread's V8 profile; returns them by thread name, and what wrk saw. */
async function perThread(env: NodeJS.ProcessEnv, paths: string): Promise<{ profiles: Record<string, string>; served: Served }> {
  const dir = join(OUT, 'cpu');
  const child = spawn(NODE, ['--cpu-prof', `--cpu-prof-dir=${dir}`, 'dist/src/main.js'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  try {
    const port = await new Promise<string>((resolve, reject) => {
      const check = (): void => {
        const m = /shardcache listening on http:\/\/[^:]+:(\d+)/.exec(log);
        if (m !== null && /admin listening/.test(log)) resolve(m[1]!);
      };
      child.stderr.on('data', check);
      child.once('exit', (code) => reject(new Failed(`the proxy exited with ${code} before listening: ${lastLines(log)}`)));
    });
    const r = await runWrk({ url: `http://127.0.0.1:${port}`, pathsFile: paths, connections: 64, seconds: SECONDS });
    const served = { requests: r.requests, errors: r.errors };
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
    await loadKeys(redis.client, 10000, 100);
    const paths = writePaths(work, 'profile', cycleTrace(10000), 100, 'plain');
    // Without NO_INSIGHT clinic asks about telemetry and, with no TTY, silently does nothing.
    const env = { ...process.env, NO_INSIGHT: '1', REDIS_URL: redis.url, PORT: '0', ADMIN_PORT: '0', RESP_PORT: '0', ...(miss ? { CACHE_CAPACITY: '0' } : {}) };
    const f = await flame(env, paths, work);
    const p = await perThread(env, paths);
    console.log(`\nflame graph (main thread = acceptor 0), ${f.served.requests} requests served (${f.served.errors} errors): ${f.html}`);
    console.log(`per-thread V8 profiles, ${p.served.requests} requests served (${p.served.errors} errors):`);
    for (const [thread, file] of Object.entries(p.profiles)) console.log(`  ${thread.padEnd(12)} ${file}`);
    console.log(`PROFILE_JSON ${JSON.stringify({ html: f.html, flameServed: f.served, profiles: p.profiles, threadServed: p.served })}`);
  } finally {
    for (const fn of teardowns.reverse()) await fn();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(`profile failed: ${err instanceof Failed ? err.message : err.stack}`);
  process.exitCode = 1;
});
