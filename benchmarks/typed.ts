/**
 * The typed reads' benchmark (issue 22): `flock /tmp/shardcache-heavy.lock
 * node dist/benchmarks/typed.js [--quick] [--baseline=<checkout>]`, after
 * `tsc -b`. One private redis-server; 1,000 hashes of 20 fields of 10 B and
 * 1,000 strings of 100 B; every key read once through each proxy first, so
 * the rounds measure hits. Interleaved rounds, each ratio taken within its
 * round, medians reported:
 * - RESP: `HGET` and `HGETALL` with redis-benchmark at pipeline 1 and 16,
 *   the proxy against Redis itself;
 * - HTTP (wrk): the 20-field hash's JSON against the 100 B string hit path
 *   of the same build (bar: at least 0.8×);
 * - HTTP string hit path against the build of `--baseline` (a checkout of
 *   main before the typed reads, built into its own dist/; bar: at least
 *   0.98×).
 * Results: benchmarks/results/typed.md (`--http`: the HTTP figures alone, typed-http.md).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, startNode, startProxy, startRedis } from '../test/helpers/processes.js';
import { median } from './lib/stats.js';
import { runWrk } from './lib/wrk.js';

const run = promisify(execFile);
const quick = process.argv.includes('--quick');
const baseline = process.argv.find((a) => a.startsWith('--baseline='))?.slice(11);
/** `--http`: the HTTP figures only (a shorter run). */
const httpOnly = process.argv.includes('--http');
const ROUNDS = quick ? 2 : 5;
const SECONDS = quick ? 3 : 6;
const KEYS = 1000;
const FIELDS = 20;
const key = (prefix: string, n: number): string => `${prefix}:${String(n).padStart(12, '0')}`;

const stops: (() => unknown)[] = [];
const t = { teardown: (fn: () => unknown) => stops.push(fn) };

/** Requests per second of one redis-benchmark run of `command` on random keys (`__rand_int__`). */
async function redisBenchmark(port: number, pipeline: number, command: string[]): Promise<number> {
  const requests = (quick ? 50000 : 200000) * (pipeline > 1 ? 4 : 1);
  const args = [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-r',
    String(KEYS),
    '-n',
    String(requests),
    '-c',
    '50',
    '-P',
    String(pipeline),
    '--csv',
  ];
  const { stdout } = await run('redis-benchmark', [...args, ...command], { maxBuffer: 1 << 20 });
  const m = /^"[^"]*","([\d.]+)"/m.exec(stdout);
  if (m === null) throw new Error(`unexpected redis-benchmark output:\n${stdout}`);
  return Number(m[1]);
}

async function main(): Promise<void> {
  const redis = await startRedis(t);
  const value10 = 'v'.repeat(10);
  for (let n = 0; n < KEYS; n++) {
    const fields: string[] = [];
    for (let f = 0; f < FIELDS; f++) fields.push(`f${String(f).padStart(2, '0')}`, value10);
    await redis.client.hset(key('bh', n), ...fields);
    await redis.client.set(key('bs', n), 's'.repeat(100));
  }
  const env = { REDIS_URL: redis.url, CACHE_TTL_MS: '600000', ADMIN_PORT: 'off' };
  const proxy = await startProxy(t, { ...env, RESP_PORT: '0' });
  const before = baseline === undefined ? undefined : await startNode(t, join(baseline, 'dist/src/main.js'), env);
  const dir = mkdtempSync(join(tmpdir(), 'typed-bench-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const paths = (prefix: string): string => {
    const file = join(dir, `${prefix}.txt`);
    writeFileSync(file, `${Array.from({ length: KEYS }, (_, n) => `/${key(prefix, n)}`).join('\n')}\n`);
    return file;
  };
  const hashes = paths('bh');
  const strings = paths('bs');
  // Warm: every key once through each proxy (HTTP and RESP share the cache).
  for (const url of [proxy.url, ...(before ? [before.url] : [])])
    for (const file of [hashes, strings]) await runWrk({ url, pathsFile: file, connections: 8, seconds: 1, startAt: 0 });
  for (let n = 0; n < KEYS; n++) await fetch(`${proxy.url}/${key('bh', n)}`).then((r) => r.arrayBuffer());

  const ratios: Record<string, number[]> = {};
  const rates: Record<string, number[]> = {};
  const note = (name: string, value: number, into = rates): void => {
    into[name] ??= [];
    into[name].push(value);
  };
  const http = (url: string, pathsFile: string) => runWrk({ url, pathsFile, connections: 64, seconds: SECONDS });
  for (let round = 0; round < ROUNDS; round++) {
    const string = await http(proxy.url, strings);
    const hash = await http(proxy.url, hashes);
    note('HTTP string 100 B', string.rps);
    note('HTTP hash 20 fields (JSON)', hash.rps);
    note('hash JSON / string', hash.rps / string.rps, ratios);
    if (hash.errors + string.errors > 0) throw new Error(`HTTP errors: ${hash.errors + string.errors}`);
    if (before !== undefined) {
      const old = await http(before.url, strings);
      note('HTTP string 100 B, baseline build', old.rps);
      note('string: this build / baseline', string.rps / old.rps, ratios);
    }
    if (!httpOnly)
      for (const [name, command] of [
        ['HGET', ['HGET', 'bh:__rand_int__', 'f07']],
        ['HGETALL', ['HGETALL', 'bh:__rand_int__']],
      ] as const)
        for (const pipeline of [1, 16]) {
          const direct = await redisBenchmark(redis.port, pipeline, [...command]);
          const through = await redisBenchmark(proxy.respPort!, pipeline, [...command]);
          note(`${name} P${pipeline} Redis`, direct);
          note(`${name} P${pipeline} proxy`, through);
          note(`${name} P${pipeline}: proxy / Redis`, through / direct, ratios);
        }
    process.stdout.write(`round ${round + 1}/${ROUNDS} done\n`);
  }
  const lines = [
    `# Typed reads (issue 22): ${new Date().toISOString()}, ${ROUNDS} interleaved rounds${quick ? ' (quick)' : ''}`,
    '',
    'Command: `flock /tmp/shardcache-heavy.lock node dist/benchmarks/typed.js' +
      (httpOnly ? ' --http' : '') +
      (baseline ? ' --baseline=<main before issue 22>' : '') +
      '`',
    '',
    '| figure | median | per round |',
    '| --- | --- | --- |',
    ...Object.entries(rates).map(([name, xs]) => `| ${name} (req/s) | ${Math.round(median(xs))} | ${xs.map(Math.round).join(', ')} |`),
    ...Object.entries(ratios).map(([name, xs]) => `| ${name} | ${median(xs).toFixed(2)}× | ${xs.map((x) => x.toFixed(2)).join(', ')} |`),
    '',
  ];
  writeFileSync(join(ROOT, `benchmarks/results/typed${httpOnly ? '-http' : ''}.md`), lines.join('\n'));
  process.stdout.write(lines.join('\n'));
}

main()
  .catch((err: unknown) => {
    process.exitCode = 1;
    console.error(err);
  })
  .finally(async () => {
    for (const stop of stops.reverse()) await stop();
  });
