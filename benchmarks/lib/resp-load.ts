/**
 * Driving a RESP port the way the RESP scenario does: the keys
 * redis-benchmark reads with `-r N` (`key:%012d`, 0 ≤ n < N), set in Redis,
 * read once through the proxy, then `redis-benchmark` GET or MGET. Shared by
 * the scenario (`resp.ts`) and `npm run profile -- --resp`, which needs
 * nothing else of it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import type { RedisServer } from '../../test/helpers/processes.js';

const run = promisify(execFile);
const keyName = (n: number): string => `key:${String(n).padStart(12, '0')}`;

/** How many keys redis-benchmark reads, how many commands it sends, over how many connections. */
export interface RespLoad {
  keys: number;
  requests: number;
  clients: number;
}

/**
 * Requests per second of one redis-benchmark run. It has no built-in MGET
 * test, so MGET of 10 random keys is a custom command (`__rand_int__` is
 * replaced per call).
 */
export async function redisBenchmark(
  port: number,
  test: 'GET' | 'MGET',
  pipeline: number,
  o: RespLoad,
  /** More arguments: `--tls --cacert …` for a TLS port. */
  extra: readonly string[] = [],
): Promise<number> {
  const common = [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-r',
    String(o.keys),
    '-n',
    String(o.requests),
    '-c',
    String(o.clients),
    '-P',
    String(pipeline),
    '--csv',
    ...extra,
  ];
  const what = test === 'GET' ? ['-t', 'get'] : ['MGET', ...Array.from({ length: 10 }, () => 'key:__rand_int__')];
  const { stdout } = await run('redis-benchmark', [...common, ...what], { maxBuffer: 1 << 20 });
  const m = /^"(?:GET|MGET)[^"]*","([\d.]+)"/m.exec(stdout);
  if (m === null) throw new Error(`unexpected redis-benchmark output:\n${stdout}`);
  return Number(m[1]);
}

/** Sets the `keys` keys redis-benchmark reads with `-r keys`, each to `xxx`. */
export async function loadRespKeys(redis: Pick<RedisServer, 'client'>, keys: number): Promise<void> {
  for (let from = 0; from < keys; from += 10000) {
    const batch: string[] = [];
    for (let n = from; n < Math.min(keys, from + 10000); n++) batch.push(keyName(n), 'xxx');
    await redis.client.mset(...batch);
  }
}

/** Reads every one of the `keys` keys once through the proxy's RESP port, so that what follows is hits; throws on a wrong value. */
export async function warmThroughResp(port: number, keys: number): Promise<void> {
  const warm = new Redis({ port, host: '127.0.0.1', protocol: 2 });
  try {
    for (let from = 0; from < keys; from += 1000) {
      const names: string[] = [];
      for (let n = from; n < Math.min(keys, from + 1000); n++) names.push(keyName(n));
      if ((await warm.mget(...names)).some((v) => v !== 'xxx')) throw new Error('warming the cache read a wrong value');
    }
  } finally {
    warm.disconnect();
  }
}
