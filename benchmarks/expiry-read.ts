/**
 * `node dist/benchmarks/expiry-read.js`: how a shard should read a batch's
 * values with their TTLs (issue 20). Against one redis-server, batches of
 * 64 keys (FLUSH_AT, a request batch) read three ways, interleaved over
 * rounds: MGET alone (no TTLs: the floor), MGET pipelined with one PTTL per
 * key, the read script of src/shard/redis/expiry-read.ts (one EVALSHA), and the
 * first script tried (GET and PTTL per key). 16
 * batches in flight, as 16 shards' worth of misses. Reported per way:
 * batches/s (median of the rounds) and Redis's CPU per key (used_cpu_sys +
 * used_cpu_user of INFO, over the run).
 */
import { Redis } from 'ioredis';
import { NO_LIFE } from '../src/cache/entry-view.js';
import { SCRIPT } from '../src/shard/redis/expiry-read.js';
import { startRedis } from '../test/helpers/processes.js';
import { median } from './lib/stats.js';

/** Keys per batch: `--batch=n`, default 64 (FLUSH_AT). */
const BATCH = Number(process.argv.find((a) => a.startsWith('--batch='))?.slice(8) ?? 64);
const IN_FLIGHT = 16;
const SECONDS = 3;
const ROUNDS = 3;
const KEYS = 10000;

const stoppers: (() => unknown)[] = [];
const redis = await startRedis({ teardown: (fn) => stoppers.push(fn) });
try {
  const load = redis.client.pipeline();
  for (let i = 0; i < KEYS; i++) load.set(`er:${i}`, 'x'.repeat(100), 'EX', 3600);
  await load.exec();
  const client = new Redis({ port: redis.port, host: '127.0.0.1', protocol: 2 });
  client.defineCommand('readWithTtl', { lua: SCRIPT });
  // The first script tried: GET and PTTL per key, WRONGTYPE caught by pcall.
  client.defineCommand('readEach', {
    lua: `local out = {}\nfor i = 1, #KEYS do\n  local v = redis.pcall('GET', KEYS[i])\n  if type(v) == 'table' then out[2 * i - 1] = false; out[2 * i] = -3 else out[2 * i - 1] = v; out[2 * i] = redis.call('PTTL', KEYS[i]) end\nend\nreturn out`,
  });
  const scripted = client as unknown as Record<string, (n: number, ...k: Buffer[]) => Promise<unknown[]>>;
  const keysOf = (n: number): Buffer[] => Array.from({ length: BATCH }, (_, i) => Buffer.from(`er:${(n * BATCH + i) % KEYS}`));
  const ways: Record<string, (keys: Buffer[]) => Promise<number>> = {
    'MGET alone (no TTLs)': async (keys) => (await client.mgetBuffer(keys)).length,
    'MGET + PTTL per key, pipelined': async (keys) => {
      const p = client.pipeline();
      p.mgetBuffer(keys);
      for (const k of keys) p.pttl(k);
      const r = (await p.exec())!;
      return r.filter(([, v]) => v !== NO_LIFE).length;
    },
    'script: MGET, then PTTL per key (expiry-read.ts)': async (keys) => (await scripted.readWithTtlBuffer!(keys.length, ...keys)).length,
    'script: GET + PTTL per key (pcall)': async (keys) => (await scripted.readEachBuffer!(keys.length, ...keys)).length,
  };
  const rates: Record<string, number[]> = {};
  const cpu: Record<string, { seconds: number; keys: number }> = {};
  const redisCpu = async (): Promise<number> => {
    const info = await redis.client.info('cpu');
    return Number(/used_cpu_sys:([\d.]+)/.exec(info)![1]) + Number(/used_cpu_user:([\d.]+)/.exec(info)![1]);
  };
  const names = Object.keys(ways);
  for (let round = 0; round < ROUNDS; round++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(round + j) % names.length]!;
      const way = ways[name]!;
      let batches = 0;
      const until = performance.now() + SECONDS * 1000;
      const cpuBefore = await redisCpu();
      const worker = async (w: number): Promise<void> => {
        for (let n = w; performance.now() < until; n += IN_FLIGHT) {
          await way(keysOf(n));
          batches++;
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, (_, w) => worker(w)));
      const spent = (await redisCpu()) - cpuBefore;
      (rates[name] ??= []).push(batches / SECONDS);
      const c = (cpu[name] ??= { seconds: 0, keys: 0 });
      c.seconds += spent;
      c.keys += batches * BATCH;
    }
  }
  console.log(`| way (batches of ${BATCH} keys, ${IN_FLIGHT} in flight) | batches/s (median of ${ROUNDS}) | keys/s | Redis CPU per key |`);
  console.log('| --- | --- | --- | --- |');
  for (const name of names) {
    const r = median(rates[name]!);
    console.log(
      `| ${name} | ${r.toFixed(0)} | ${(r * BATCH).toFixed(0)} | ${((cpu[name]!.seconds / cpu[name]!.keys) * 1e6).toFixed(2)} µs |`,
    );
  }
  client.disconnect();
} finally {
  for (const fn of stoppers.reverse()) await fn();
}
