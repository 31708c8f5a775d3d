/**
 * The benchmarks `npm run bench` (benchmarks/run.ts) runs as child processes,
 * each with its own servers and load: staleness, memory (only when asked),
 * bcast, stampede, tls and typed.
 */
import { execFileSync } from 'node:child_process';
import { ROOT } from '../../test/helpers/processes.js';
import type { StalenessSummary } from '../staleness.js';

/**
 * Runs benchmarks/staleness.ts (its own redis-server and proxies) and reads
 * the summary line it ends with. About 1,000 SETs a second are watched at
 * both write rates, so the reader's own queueing does not swamp the figure.
 */
export function runStaleness(quick: boolean): StalenessSummary {
  const out = execFileSync(process.execPath, ['dist/benchmarks/staleness.js', ...(quick ? ['--quick'] : []), '--watch-per-second=1000'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.stdout.write(out.replace(/^STALENESS_JSON .*\n?/m, ''));
  const line = /^STALENESS_JSON (.*)$/m.exec(out);
  if (line === null) throw new Error('staleness benchmark printed no summary');
  return JSON.parse(line[1]!) as StalenessSummary;
}

/** The child benchmarks after staleness, in order, each when `only` (`--only=`) names it or is not given. */
export function runChildBenches(only: string[] | undefined, quick: boolean): void {
  // Only when asked (`--only=memory`): it loads 10M keys and runs about ten minutes (benchmarks/memory.ts).
  if (only?.includes('memory'))
    execFileSync(process.execPath, ['dist/benchmarks/memory.js', ...(quick ? ['--quick'] : [])], { cwd: ROOT, stdio: 'inherit' });
  // Issue 20's TRACKING_MODE bars (benchmarks/tracking-modes.ts): its own proxies and load, about four minutes.
  if (only === undefined || only.includes('bcast'))
    execFileSync(process.execPath, ['dist/benchmarks/tracking-modes.js', ...(quick ? ['--quick'] : [])], { cwd: ROOT, stdio: 'inherit' });
  // Issue 14's stampede bar (benchmarks/stampede.ts): its own proxies and load, about a minute.
  if (only === undefined || only.includes('stampede'))
    execFileSync(process.execPath, ['dist/benchmarks/stampede.js', ...(quick ? ['--quick'] : [])], { cwd: ROOT, stdio: 'inherit' });
  // Issue 21's TLS bars (benchmarks/tls.ts): its own servers, certificates and load, about three minutes.
  if (only === undefined || only.includes('tls'))
    execFileSync(process.execPath, ['dist/benchmarks/tls.js', ...(quick ? ['--quick'] : [])], { cwd: ROOT, stdio: 'inherit' });
  // Issue 22's typed reads (benchmarks/typed.ts): its own Redis, proxies and load, about four minutes. The string
  // hit path's "before" is the build SHARDCACHE_BENCH_BEFORE names (<checkout>/dist/src/main.js), when set.
  if (only === undefined || only.includes('typed')) {
    const before = process.env.SHARDCACHE_BENCH_BEFORE?.replace(/\/dist\/src\/main\.js$/, '');
    const args = [...(quick ? ['--quick'] : []), ...(before ? [`--baseline=${before}`] : [])];
    execFileSync(process.execPath, ['dist/benchmarks/typed.js', ...args], { cwd: ROOT, stdio: 'inherit' });
  }
}
