/**
 * `node dist/benchmarks/expiry-read.js [--batch=n]`: how a shard should read
 * a batch's values with their TTLs (issue 20). Against one redis-server,
 * batches of `n` keys (default 32, about what a shard's miss batch holds
 * under 64 connections) read several ways, interleaved over rounds: MGET
 * alone (no TTLs: the floor), MGET pipelined with one PTTL per key, one
 * script returning values and TTLs (nested and flat), and MGET pipelined
 * with a script that returns only the TTLs (what src/shard/redis/expiry-read.ts
 * sends; with PTTL, and with PEXPIRETIME). 16 batches in flight, as 16 shards' worth of misses. Reported per
 * way: batches/s (median of the rounds), Redis's CPU per key (used_cpu_sys +
 * used_cpu_user of INFO) and this client's CPU per key (process.cpuUsage:
 * ioredis writing the commands and parsing the replies), over the run.
 */
import { Redis } from 'ioredis';
import { NO_LIFE } from '../src/cache/entry-view.js';
import { TTL_SCRIPT } from '../src/shard/redis/expiry-read.js';
import { startRedis } from '../test/helpers/processes.js';
import { median } from './lib/stats.js';

/** Keys per batch: `--batch=n`, default 32. */
const BATCH = Number(process.argv.find((a) => a.startsWith('--batch='))?.slice(8) ?? 32);
/** `--tracking`: the client's reads are tracked (CLIENT TRACKING ON REDIRECT), as a shard's are. */
const TRACKING = process.argv.includes('--tracking');
const IN_FLIGHT = 16;
const SECONDS = 3;
const ROUNDS = 3;
const KEYS = 10000;

/** The script of the first commit on main: values and TTLs in one nested reply. */
const NESTED = `local ttls = {}
for i = 1, #KEYS do ttls[i] = redis.call('PTTL', KEYS[i]) end
return {redis.call('MGET', unpack(KEYS)), ttls}`;
/** Values and TTLs interleaved in one flat reply. */
const FLAT = `local v = redis.call('MGET', unpack(KEYS))
local out = {}
for i = 1, #KEYS do out[2 * i - 1] = v[i]; out[2 * i] = redis.call('PTTL', KEYS[i]) end
return out`;

/** TTL_SCRIPT with PEXPIRETIME (Redis >= 7: an absolute Unix time, which the shard would turn into a life with Redis's TIME). */
const EXPIRETIME = TTL_SCRIPT.replace('PTTL', 'PEXPIRETIME');

const stoppers: (() => unknown)[] = [];
const redis = await startRedis({ teardown: (fn) => stoppers.push(fn) });
try {
  const load = redis.client.pipeline();
  for (let i = 0; i < KEYS; i++) load.set(`er:${i}`, 'x'.repeat(100), 'EX', 3600);
  await load.exec();
  const client = new Redis({ port: redis.port, host: '127.0.0.1', protocol: 2 });
  if (TRACKING) {
    // As a shard's data connection: its reads tracked, invalidations sent to another connection.
    const sink = new Redis({ port: redis.port, host: '127.0.0.1', protocol: 2 });
    stoppers.push(() => sink.disconnect());
    await client.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(await sink.client('ID')));
  }
  const sha = async (lua: string): Promise<string> => (await client.script('LOAD', lua)) as string;
  const [nested, flat, ttlOnly, expireTime] = await Promise.all([sha(NESTED), sha(FLAT), sha(TTL_SCRIPT), sha(EXPIRETIME)]);
  const evalsha = (s: string, keys: Buffer[], numKeys = keys.length) =>
    client.callBuffer('evalsha', s, numKeys, ...keys) as Promise<unknown[]>;
  const keysOf = (n: number): Buffer[] => Array.from({ length: BATCH }, (_, i) => Buffer.from(`er:${(n * BATCH + i) % KEYS}`));
  /** MGET and the script `s` of the keys as ARGV, corked into one write. */
  const besideMget =
    (s: string) =>
    async (keys: Buffer[]): Promise<number> => {
      const stream = client.stream;
      stream.cork();
      const values = client.mgetBuffer(keys);
      const ttls = evalsha(s, keys, 0);
      stream.uncork();
      return (await values).length + (await ttls).length;
    };
  const ways: Record<string, (keys: Buffer[]) => Promise<number>> = {
    'MGET alone (no TTLs)': async (keys) => (await client.mgetBuffer(keys)).length,
    'MGET + PTTL per key, pipelined': async (keys) => {
      const p = client.pipeline();
      p.mgetBuffer(keys);
      for (const k of keys) p.pttl(k);
      const r = (await p.exec())!;
      return r.filter(([, v]) => v !== NO_LIFE).length;
    },
    'script: MGET, then PTTL per key (nested reply)': async (keys) => (await evalsha(nested, keys)).length,
    'script: value and PTTL interleaved (flat reply)': async (keys) => (await evalsha(flat, keys)).length,
    'MGET + script of PTTLs only (keys as ARGV), one write (expiry-read.ts)': besideMget(ttlOnly),
    'MGET + script of PEXPIRETIMEs (keys as ARGV), one write': besideMget(expireTime),
  };
  const rates: Record<string, number[]> = {};
  const cpu: Record<string, { seconds: number; client: number; keys: number }> = {};
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
      const clientBefore = process.cpuUsage();
      const worker = async (w: number): Promise<void> => {
        for (let n = w; performance.now() < until; n += IN_FLIGHT) {
          await way(keysOf(n));
          batches++;
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, (_, w) => worker(w)));
      const used = process.cpuUsage(clientBefore);
      const spent = (await redisCpu()) - cpuBefore;
      rates[name] ??= [];
      rates[name].push(batches / SECONDS);
      cpu[name] ??= { seconds: 0, client: 0, keys: 0 };
      const c = cpu[name];
      c.seconds += spent;
      c.client += (used.user + used.system) / 1e6;
      c.keys += batches * BATCH;
    }
  }
  console.log(
    `| way (batches of ${BATCH} keys, ${IN_FLIGHT} in flight${TRACKING ? ', tracked' : ''}) | batches/s (median of ${ROUNDS}) | keys/s | Redis CPU per key | client CPU per key |`,
  );
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const name of names) {
    const r = median(rates[name]!);
    const c = cpu[name]!;
    console.log(
      `| ${name} | ${r.toFixed(0)} | ${(r * BATCH).toFixed(0)} | ${((c.seconds / c.keys) * 1e6).toFixed(2)} µs | ${((c.client / c.keys) * 1e6).toFixed(2)} µs |`,
    );
  }
  client.disconnect();
} finally {
  for (const fn of stoppers.reverse()) await fn();
}
