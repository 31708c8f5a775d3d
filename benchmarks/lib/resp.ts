/**
 * The RESP scenario: `redis-benchmark` GET and MGET through the proxy's RESP
 * port, straight at Redis, and at the Node RESP ceiling
 * (`servers/resp-bare.ts`: fixed answers, no cache, no hop), at pipeline
 * depths 1 and 16, interleaved round by round. The ceiling tells whether a
 * bar missed against Redis is within reach of a Node front at all. The keys
 * redis-benchmark reads with `-r N` (`key:%012d`, 0 ≤ n < N) are set in
 * Redis and read once through the proxy first, so the proxy's numbers are
 * cache hits.
 */
import { spawn } from 'node:child_process';
import { freePort, startProxy, stopProcess, ROOT, type RedisServer } from '../../test/helpers/processes.js';
import { medianCpu, perRequest, snapshot, type CpuPerRequest } from './cpu.js';
import { waitForPort } from './targets.js';
import { loadRespKeys, redisBenchmark, warmThroughResp, type RespLoad } from './resp-load.js';
import { median } from './stats.js';

/** One row of the RESP table. */
export interface RespRow {
  test: 'GET' | 'MGET';
  pipeline: number;
  redisRps: number;
  proxyRps: number;
  /** The Node RESP ceiling (fixed answers, one thread). */
  ceilingRps: number;
  /** Median over rounds of proxy ÷ Redis in the same round. */
  ratio: number;
  /** Median over rounds of ceiling ÷ Redis in the same round. */
  ceilingRatio: number;
  /** Median over rounds of proxy ÷ ceiling in the same round. */
  vsCeiling: number;
  /** CPU per command by thread (GET at pipeline 1 only). */
  cpu?: { proxy: CpuPerRequest; ceiling: CpuPerRequest; redis: CpuPerRequest };
}

export interface RespOptions extends RespLoad {
  rounds: number;
}

/** Loads the keys, starts a proxy with a RESP port in front of `redis`, and measures. */
export async function respBench(redis: RedisServer, o: RespOptions): Promise<RespRow[]> {
  await loadRespKeys(redis, o.keys);
  const teardowns: (() => unknown)[] = [];
  try {
    const proxy = await startProxy(
      { teardown: (fn) => teardowns.push(fn) },
      { REDIS_URL: redis.url, RESP_PORT: '0', CACHE_CAPACITY: String(Math.max(o.keys, 100000)), CACHE_TTL_MS: '3600000' },
    );
    const ceilingPort = await freePort();
    const ceiling = spawn(process.execPath, ['dist/benchmarks/servers/resp-bare.js'], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(ceilingPort) },
      stdio: 'ignore',
    });
    teardowns.push(() => stopProcess(ceiling));
    await waitForPort(ceilingPort, ceiling, 'the Node RESP ceiling');
    await warmThroughResp(proxy.respPort!, o.keys);
    const rows: RespRow[] = [];
    for (const pipeline of [1, 16]) {
      for (const test of ['GET', 'MGET'] as const) {
        const direct: number[] = [];
        const proxied: number[] = [];
        const bare: number[] = [];
        // CPU per command, read around each run of the GET P1 rows (redis-benchmark sends o.requests commands).
        const withCpu = test === 'GET' && pipeline === 1;
        const cpu = { proxy: [] as CpuPerRequest[], ceiling: [] as CpuPerRequest[], redis: [] as CpuPerRequest[] };
        const timed = async (port: number, pid: number, into: CpuPerRequest[]): Promise<number> => {
          const before = withCpu ? snapshot([pid]) : undefined;
          const rps = await redisBenchmark(port, test, pipeline, o);
          if (before !== undefined) into.push(perRequest(before, snapshot([pid]), o.requests));
          return rps;
        };
        for (let r = 0; r < o.rounds; r++) {
          direct.push(await timed(redis.port, redis.pid, cpu.redis));
          bare.push(await timed(ceilingPort, ceiling.pid!, cpu.ceiling));
          proxied.push(await timed(proxy.respPort!, proxy.child.pid!, cpu.proxy));
          console.log(
            `round ${r + 1} RESP ${test} P${pipeline}: redis ${direct[r]!.toFixed(0)}, Node ceiling ${bare[r]!.toFixed(0)}, proxy ${proxied[r]!.toFixed(0)} req/s`,
          );
        }
        const over = (xs: number[], base: number[]): number => median(xs.map((x, i) => x / base[i]!));
        const row: RespRow = {
          test,
          pipeline,
          redisRps: median(direct),
          proxyRps: median(proxied),
          ceilingRps: median(bare),
          ratio: over(proxied, direct),
          ceilingRatio: over(bare, direct),
          vsCeiling: over(proxied, bare),
        };
        if (withCpu) row.cpu = { proxy: medianCpu(cpu.proxy)!, ceiling: medianCpu(cpu.ceiling)!, redis: medianCpu(cpu.redis)! };
        rows.push(row);
      }
    }
    return rows;
  } finally {
    for (const fn of teardowns.reverse()) await fn();
  }
}
