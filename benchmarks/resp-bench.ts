/**
 * `redis-benchmark -t get,mget` through the proxy's RESP port and straight
 * at Redis, at pipeline depths 1 and 16, in one run, with the bars:
 * through the proxy ≥ 1.0× Redis at P1 and ≥ 0.5× at P16.
 *
 * The keys redis-benchmark reads with `-r N` (`key:%012d`, 0 ≤ n < N) are
 * set in a private redis-server and read once through the proxy first, so
 * the proxy's numbers are cache hits. Load generator and servers share the
 * machine: run it alone, under the CPU lock, after a build:
 *   npx tsc -b && flock /tmp/shardcache-cpu.lock node dist/benchmarks/resp-bench.js
 * Settings (environment): BENCH_KEYS (100000), BENCH_REQUESTS (200000),
 * BENCH_CLIENTS (50), SHARDS (1).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { startProxy, startRedis } from '../test/helpers/processes.js';

const run = promisify(execFile);
const keys = Number(process.env.BENCH_KEYS ?? 100000);
const requests = Number(process.env.BENCH_REQUESTS ?? 200000);
const clients = Number(process.env.BENCH_CLIENTS ?? 50);
const BARS: Record<number, number> = { 1: 1.0, 16: 0.5 };

const teardowns: (() => unknown)[] = [];
const t = { teardown: (fn: () => unknown) => teardowns.push(fn) };

const keyName = (n: number): string => `key:${String(n).padStart(12, '0')}`;

/**
 * Runs redis-benchmark against `port`; returns requests per second by test
 * name. redis-benchmark has no built-in MGET test, so MGET of 10 random
 * keys is given as a custom command (`__rand_int__` is replaced per call).
 */
async function bench(port: number, pipeline: number): Promise<Map<string, number>> {
  const common = ['-h', '127.0.0.1', '-p', String(port), '-r', String(keys), '-n', String(requests), '-c', String(clients), '-P', String(pipeline), '--csv'];
  const rates = new Map<string, number>();
  const runs: [string, string[]][] = [
    ['GET', ['-t', 'get']],
    ['MGET', ['MGET', ...Array.from({ length: 10 }, () => 'key:__rand_int__')]],
  ];
  for (const [name, extra] of runs) {
    const { stdout } = await run('redis-benchmark', [...common, ...extra], { maxBuffer: 1 << 20 });
    const m = /^"(?:GET|MGET)[^"]*","([\d.]+)"/m.exec(stdout);
    if (m === null) throw new Error(`unexpected redis-benchmark output:\n${stdout}`);
    rates.set(name, Number(m[1]));
  }
  return rates;
}

async function main(): Promise<void> {
  const redis = await startRedis(t);
  for (let from = 0; from < keys; from += 10000) {
    const batch: string[] = [];
    for (let n = from; n < Math.min(keys, from + 10000); n++) batch.push(keyName(n), 'xxx');
    await redis.client.mset(...batch);
  }
  const proxy = await startProxy(t, { REDIS_URL: redis.url, RESP_PORT: '0', SHARDS: process.env.SHARDS ?? '1', CACHE_CAPACITY: String(Math.max(keys, 100000)), CACHE_TTL_MS: '3600000' });
  const warm = new Redis({ port: proxy.respPort!, host: '127.0.0.1', protocol: 2 });
  t.teardown(() => warm.disconnect());
  for (let from = 0; from < keys; from += 1000) {
    const names: string[] = [];
    for (let n = from; n < Math.min(keys, from + 1000); n++) names.push(keyName(n));
    const values = await warm.mget(...names);
    if (values.some((v) => v !== 'xxx')) throw new Error('warming the cache read a wrong value');
  }
  console.log(`redis-benchmark -t get,mget -r ${keys} -n ${requests} -c ${clients}; proxy SHARDS=${process.env.SHARDS ?? '1'}, every key cached`);
  console.log('| test | pipeline | Redis req/s | proxy req/s | proxy / Redis | bar |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  let missed = 0;
  for (const pipeline of [1, 16]) {
    const direct = await bench(redis.port, pipeline);
    const proxied = await bench(proxy.respPort!, pipeline);
    for (const test of ['GET', 'MGET']) {
      const ratio = proxied.get(test)! / direct.get(test)!;
      const met = ratio >= BARS[pipeline]!;
      if (!met) missed++;
      console.log(`| ${test} | ${pipeline} | ${direct.get(test)!.toFixed(0)} | ${proxied.get(test)!.toFixed(0)} | ${ratio.toFixed(2)}× | ≥ ${BARS[pipeline]!.toFixed(1)}× ${met ? 'met' : 'MISSED'} |`);
    }
  }
  process.exitCode = missed === 0 ? 0 : 1;
}

try {
  await main();
} finally {
  for (const fn of teardowns.reverse()) await fn();
}
