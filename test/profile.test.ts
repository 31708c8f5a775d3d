/**
 * `npm run profile` on the built proxy (issue: clinic flame crashed the
 * proxy when it opened a second listener): the profiled process serves 2xx
 * answers, the flame graph names the request path, and every thread leaves
 * its V8 profile. Short runs (2 s of load per pass); needs wrk, which
 * .ci/run and benchmarks/setup.sh install.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, stopProcess } from './helpers/processes.js';

interface Result {
  html: string;
  flameServed: { requests: number; errors: number };
  profiles: Record<string, string>;
  threadServed: { requests: number; errors: number };
}

function profile(env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; out: string }> {
  const out = mkdtempSync(join(tmpdir(), 'shardcache-profile-test-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  return new Promise((resolve) => {
    // Without tap's NODE_OPTIONS: its --import starts a loader-hooks thread, whose own tick log the
    // profiler could take for the main thread's (docs/operations.md, Profiling).
    const child = spawn(process.execPath, ['dist/benchmarks/profile.js', '--seconds=2', `--out=${out}`, ...args], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    const timer = setTimeout(() => void stopProcess(child), 90000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out: text });
    });
  });
}

for (const [name, env, threads] of [
  ['the default settings with RESP_PORT', {}, null],
  ['2 acceptors and 2 shards, RESP_PORT', { ACCEPTORS: '2', SHARDS: '2' }, ['acceptor-0', 'acceptor-1', 'shard-0', 'shard-1']],
] as const) {
  t.test(`clinic flame and per-thread profiles, ${name}`, async (t) => {
    const { code, out } = await profile(env);
    t.equal(code, 0, `npm run profile succeeded${code === 0 ? '' : `: ${out.slice(-800)}`}`);
    const line = /PROFILE_JSON (\{.*\})/.exec(out);
    if (!t.ok(line, 'it printed its result')) return;
    const r = JSON.parse(line![1]!) as Result;
    t.ok(
      r.flameServed.requests - r.flameServed.errors > 1000,
      `the proxy served while under clinic flame: ${r.flameServed.requests} requests, ${r.flameServed.errors} errors`,
    );
    t.equal(r.flameServed.errors, 0, 'all of them 2xx');
    const html = readFileSync(r.html, 'latin1');
    // A frame of the HTTP front, whichever: one 2 s run of 2026-12-01 had front.js frames but no #onRequest (inlined or not sampled).
    t.match(html, /file:\/\/\/[^"]*\/acceptor\/http\/front\.js/, 'the flame graph shows the HTTP front (acceptor 0 is the main thread)');
    t.match(html, /acceptor\/dispatcher\.js/, 'and the dispatcher');
    const names = Object.keys(r.profiles).sort();
    t.ok(names.includes('acceptor-0') && names.some((n) => n.startsWith('shard-')), `per-thread profiles: ${names.join(', ')}`);
    if (threads !== null) t.same(names, threads, 'one for every acceptor and every shard');
    for (const file of Object.values(r.profiles)) t.ok(statSync(file).size > 1000, `${file} holds a profile`);
  });
}

t.test('per-thread profiles under redis-benchmark on the RESP port (--resp), with each thread’s busiest functions', async (t) => {
  const { code, out } = await profile({}, ['--resp']);
  t.equal(code, 0, `npm run profile -- --resp succeeded${code === 0 ? '' : `: ${out.slice(-800)}`}`);
  const line = /PROFILE_JSON (\{.*\})/.exec(out);
  if (!t.ok(line, 'it printed its result')) return;
  const r = JSON.parse(line![1]!) as Omit<Result, 'html' | 'flameServed'>;
  t.equal(r.threadServed.requests, 40000, '2 s worth of GETs were sent');
  t.equal(r.threadServed.errors, 0, 'and every one answered ok, by the proxy’s own metrics');
  t.ok(statSync(r.profiles['acceptor-0']!).size > 1000, 'acceptor 0 left a profile');
  const summary = /acceptor-0[^\n]*\n\s+busy \d+ ms, [\d.]+ µs per request; by self time:\n((?:\s+[\d.]+%\s+\S[^\n]*\n){8})/.exec(out);
  if (!t.ok(summary, 'eight functions by self time for acceptor 0')) return;
  const shares = [...summary![1]!.matchAll(/([\d.]+)%/g)].map((m) => Number(m[1]));
  t.same(
    shares,
    [...shares].sort((a, b) => b - a),
    `busiest first (${shares.join(', ')})`,
  );
  t.ok(shares.reduce((a, b) => a + b, 0) <= 100.5, 'shares of one thread’s busy time, together at most all of it');
});
