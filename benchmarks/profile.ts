/**
 * `npm run profile [-- --miss]`: runs shardcache under wrk load inside
 * `clinic flame`, and with `--cpu-prof` so each thread (the shards
 * included, which flame cannot see) writes its own V8 profile.
 *
 * Output: benchmarks/results/profile/ — `*.clinic-flame.html` (main thread
 * flame graph, open in a browser) and `cpu/*.cpuprofile` (one per thread:
 * open in Chrome DevTools › Performance, or VS Code).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, startRedis } from '../test/helpers/processes.js';
import { cycleTrace, loadKeys, writePaths } from './lib/data.js';

const miss = process.argv.includes('--miss');
const SECONDS = 10;

async function main(): Promise<void> {
  const teardowns: (() => unknown)[] = [];
  const work = mkdtempSync(join(tmpdir(), 'shardcache-profile-'));
  const out = join(ROOT, 'benchmarks/results/profile');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'cpu'), { recursive: true });
  try {
    const redis = await startRedis({ teardown: (fn) => teardowns.push(fn) });
    await loadKeys(redis.client, 10000, 100);
    const paths = writePaths(work, 'profile', cycleTrace(10000), 100, 'plain');
    const load = `wrk -t1 -c64 -d${SECONDS}s -s ${join(ROOT, 'benchmarks/lib/paths.lua')} http://127.0.0.1:$PORT -- ${paths} 0`;
    const args = ['flame', '--open=false', '--dest', out, '--on-port', load, '--', process.execPath, `--cpu-prof`, `--cpu-prof-dir=${join(out, 'cpu')}`, 'dist/src/main.js'];
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(join(ROOT, 'node_modules/.bin/clinic'), args, {
        cwd: ROOT,
        // Without NO_INSIGHT clinic asks about telemetry and, with no TTY, silently does nothing.
        env: { ...process.env, NO_INSIGHT: '1', REDIS_URL: redis.url, PORT: '0', ...(miss ? { CACHE_CAPACITY: '0' } : {}) },
        stdio: 'inherit',
      });
      teardowns.push(() => child.exitCode === null && child.kill('SIGKILL'));
      child.once('exit', resolve);
    });
    if (code !== 0) throw new Error(`clinic exited with ${code}`);
    const html = readdirSync(out).filter((f) => f.endsWith('.html'));
    const profiles = readdirSync(join(out, 'cpu'));
    console.log(`\nflame graph (main thread): ${html.map((f) => join(out, f)).join(', ') || 'none written'}`);
    console.log(`per-thread V8 profiles (${profiles.length}): ${join(out, 'cpu')}`);
  } finally {
    for (const fn of teardowns.reverse()) await fn();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(`profile failed: ${err.message}`);
  process.exitCode = 1;
});
