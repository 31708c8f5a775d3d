/**
 * `node dist/benchmarks/stampede.js [--quick]` (also `npm run bench -- --only=stampede`):
 * issue 14's stampede bar. 200 concurrent clients read one hot key for about
 * 4 s per round through proxies with CACHE_TTL_MS=200 (20 expiries a round):
 * with STALE_WHILE_REVALIDATE_MS, with early refresh alone, and with neither
 * (the stampede this prevents), against the same proxy with a TTL that never
 * expires during the run (the p99 "between expiries"). Rounds interleave the
 * four; reported: each one's p99, its p99 ÷ the baseline's in the same round
 * (median), and Redis GETs of the key per TTL period.
 *
 * Redis answers GETs of the key 20 ms late (the test hook
 * SHARDCACHE_TEST_DELAY_GET, as a loaded or distant Redis would): with a
 * local Redis a coalesced miss waits one ~1 ms round trip, far under the
 * p99 of 200 clients in one process, and the control showed no stampede.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { ROOT, startProxy, startRedis, type Proxy } from '../test/helpers/processes.js';
import { median } from './lib/stats.js';
import { commandCalls } from '../test/helpers/commandstats.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 3;
const SECONDS = quick ? 2 : 4.2;
const TTL_MS = 200;
const CLIENTS = 200;
/** How late Redis answers the hot key (see the file comment). */
const DELAY_MS = 20;

const variants: { name: string; env: Record<string, string> }[] = [
  { name: 'no expiry during the run (baseline)', env: { CACHE_TTL_MS: '3600000', EARLY_REFRESH_BETA: '0' } },
  {
    name: 'STALE_WHILE_REVALIDATE_MS=1000',
    env: { CACHE_TTL_MS: String(TTL_MS), STALE_WHILE_REVALIDATE_MS: '1000', EARLY_REFRESH_BETA: '0' },
  },
  { name: 'early refresh (EARLY_REFRESH_BETA=1)', env: { CACHE_TTL_MS: String(TTL_MS), EARLY_REFRESH_BETA: '1' } },
  { name: 'neither (EARLY_REFRESH_BETA=0)', env: { CACHE_TTL_MS: String(TTL_MS), EARLY_REFRESH_BETA: '0' } },
];

/** `CLIENTS` loops reading `/hot` for `seconds`; returns each request's latency in ms. */
async function load(url: string, agent: Agent): Promise<Float64Array> {
  const latencies: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < end) {
        const started = performance.now();
        const res = await request(`${url}/hot`, { dispatcher: agent });
        await res.body.arrayBuffer();
        if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
        latencies.push(performance.now() - started);
      }
    }),
  );
  return Float64Array.from(latencies).sort();
}

const p99 = (sorted: Float64Array): number => sorted[Math.floor(sorted.length * 0.99)]!;

async function main(): Promise<void> {
  const teardowns: (() => unknown)[] = [];
  const t = { teardown: (fn: () => unknown) => teardowns.push(fn) };
  const agent = new Agent({ connections: CLIENTS, pipelining: 1 });
  const lines: string[] = [];
  try {
    const redis = await startRedis(t);
    await redis.client.set('hot', 'x'.repeat(100));
    const gets = (): Promise<number> => commandCalls(redis.client, 'get', 'mget');
    const proxies: Proxy[] = [];
    for (const v of variants)
      proxies.push(await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', SHARDCACHE_TEST_DELAY_GET: `hot:${DELAY_MS}`, ...v.env }));
    for (const p of proxies) await load(p.url, agent);
    const results = variants.map(() => ({ p99: [] as number[], ratio: [] as number[], getsPerPeriod: [] as number[], requests: 0 }));
    for (let round = 0; round < ROUNDS; round++) {
      const p99s: number[] = [];
      for (let k = 0; k < variants.length; k++) {
        const i = (k + round) % variants.length;
        const before = await gets();
        const started = performance.now();
        const latencies = await load(proxies[i]!.url, agent);
        const periods = (performance.now() - started) / TTL_MS;
        p99s[i] = p99(latencies);
        results[i]!.p99.push(p99s[i]!);
        results[i]!.getsPerPeriod.push(((await gets()) - before) / periods);
        results[i]!.requests += latencies.length;
        console.log(
          `round ${round + 1} ${variants[i]!.name.padEnd(40)} ${latencies.length} requests, p99 ${p99s[i]!.toFixed(2)} ms, ${results[i]!.getsPerPeriod.at(-1)!.toFixed(2)} GETs per TTL period`,
        );
      }
      for (let i = 0; i < variants.length; i++) results[i]!.ratio.push(p99s[i]! / p99s[0]!);
    }
    lines.push(
      `Run ${new Date().toISOString()}${quick ? ' (--quick)' : ''}: ${CLIENTS} concurrent clients (undici, one process) read one 100 B key for ${SECONDS} s per round, CACHE_TTL_MS=${TTL_MS}, Redis answering it ${DELAY_MS} ms late, ${ROUNDS} interleaved rounds; medians.`,
      '',
      '| proxy | requests | p99 ms | p99 ÷ baseline | Redis GETs per TTL period |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...variants.map(
        (v, i) =>
          `| ${v.name} | ${results[i]!.requests} | ${median(results[i]!.p99).toFixed(2)} | ${median(results[i]!.ratio).toFixed(2)} | ${i === 0 ? '–' : median(results[i]!.getsPerPeriod).toFixed(2)} |`,
      ),
    );
  } finally {
    await agent.close();
    for (const fn of teardowns.reverse()) await fn();
  }
  const text = lines.join('\n');
  console.log(`\n${text}`);
  writeFileSync(join(ROOT, 'benchmarks/results/stampede.md'), `${text}\n`);
}

main().catch((err: Error) => {
  console.error(`stampede benchmark failed: ${err.message}`);
  process.exitCode = 1;
});
