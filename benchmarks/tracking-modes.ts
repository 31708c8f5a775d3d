/**
 * `node dist/benchmarks/tracking-modes.js [--quick]` (also `npm run bench --
 * --only=bcast`): issue 20's TRACKING_MODE bars and the price of `bcast`.
 *
 * Two proxies on one redis-server, TRACKING_MODE=default and =bcast (no
 * KEY_PREFIX: every key is covered, the dearest case), CACHE_TTL_MS ten
 * minutes, default threads.
 *
 * 1. Hit path: wrk reads 10k cached keys of 100 B from each proxy, with no
 *    writes and under 10k SET/s of other keys (`cold:*`, which no proxy
 *    holds), the four in rotating rounds; medians of per-round ratios.
 * 2. The price, without reads: 10k SET/s of cold keys for a window, against
 *    an idle window of the same length. Invalidation messages and keys per
 *    second per proxy (/metrics), CPU of the shard threads per invalidated
 *    key and of redis-server per SET (/proc/<pid>/task/<tid>, idle window
 *    subtracted). Batched writes (every 10 ms, all owed SETs at once) and
 *    sequential ones (each SET after the last reply): Redis sends one bcast
 *    message per prefix per event-loop turn, so keys per message follow the
 *    writers' batching, not the write rate.
 * 3. Staleness at 10k SET/s of cached keys (benchmarks/staleness.ts's
 *    measure, about 1,000 SETs a second watched), the two proxies in
 *    alternating rounds.
 *
 * Writes benchmarks/results/tracking-modes.md. Run it under the CPU lock.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scrape, total } from '../test/helpers/metrics.js';
import { ROOT, startProxy, startRedis, type Proxy, type RedisServer } from '../test/helpers/processes.js';
import { sleep } from '../test/helpers/time.js';
import { snapshot, type CpuSnapshot } from './lib/cpu.js';
import { cycleTrace, loadKeys, writePaths } from './lib/data.js';
import { median } from './lib/stats.js';
import { runWrk } from './lib/wrk.js';
import { startWriter, type Writer } from './lib/writer.js';
import { staleness } from './staleness.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 5;
const WRK_SECONDS = quick ? 3 : 6;
const WINDOW_SECONDS = quick ? 2 : 5;
const STALE_ROUNDS = quick ? 1 : 3;
const STALE_SECONDS = quick ? 2 : 5;
const RATE = 10000;
const MODES = ['default', 'bcast'] as const;
type Mode = (typeof MODES)[number];

const cold = (n: number): string => `cold:${n % 100000}`;

/** CPU nanoseconds between two snapshots of the threads whose name matches `name`. */
function cpuNs(before: CpuSnapshot, after: CpuSnapshot, name: RegExp): number {
  let ns = 0;
  for (const [key, s] of after) if (name.test(s.name)) ns += s.ns - (before.get(key)?.ns ?? 0);
  return ns;
}

/** Invalidation messages and keys `proxy` has received so far. */
async function invalidations(proxy: Proxy): Promise<{ messages: number; keys: number }> {
  const samples = await scrape(proxy.admin);
  return {
    messages: total(samples, 'shardcache_invalidation_messages_total'),
    keys: total(samples, 'shardcache_invalidations_total', { kind: 'key' }),
  };
}

interface Window {
  sets: number;
  seconds: number;
  messages: number;
  keys: number;
  shardNs: number;
  redisNs: number;
}

/** One window of `seconds` with `writer` running (or none: idle); what the proxy and Redis spent. */
async function window(proxy: Proxy, redis: RedisServer, seconds: number, writer?: () => Promise<Writer>): Promise<Window> {
  const [count, cpu, rcpu] = [await invalidations(proxy), snapshot([proxy.child.pid!]), snapshot([redis.pid])];
  const w = await writer?.();
  await sleep(seconds * 1000);
  const written = w ? await w.stop() : { sets: 0, seconds };
  await sleep(100); // the last messages land
  const [after, cpuAfter, rcpuAfter] = [await invalidations(proxy), snapshot([proxy.child.pid!]), snapshot([redis.pid])];
  return {
    sets: written.sets,
    seconds: written.seconds,
    messages: after.messages - count.messages,
    keys: after.keys - count.keys,
    shardNs: cpuNs(cpu, cpuAfter, /^shard-\d+$/),
    redisNs: cpuNs(rcpu, rcpuAfter, /.*/),
  };
}

async function main(): Promise<void> {
  const teardowns: (() => unknown)[] = [];
  const t = { teardown: (fn: () => unknown) => void teardowns.push(fn) };
  const dir = mkdtempSync(join(tmpdir(), 'shardcache-tracking-modes-'));
  teardowns.push(() => rmSync(dir, { recursive: true, force: true }));
  const lines: string[] = [];
  try {
    const redis = await startRedis(t);
    const proxies: Record<Mode, Proxy> = {
      default: await startProxy(t, { REDIS_URL: redis.url, CACHE_TTL_MS: '600000', TRACKING_MODE: 'default' }),
      bcast: await startProxy(t, { REDIS_URL: redis.url, CACHE_TTL_MS: '600000', TRACKING_MODE: 'bcast' }),
    };
    await loadKeys(redis.client, 10000, 100);
    const paths = writePaths(dir, 'hit', cycleTrace(10000), 100, 'plain');
    for (const mode of MODES) await runWrk({ url: proxies[mode].url, pathsFile: paths, connections: 64, seconds: 2 }); // warm: every key cached

    // 1. Hit path, with and without writes.
    const variants = MODES.flatMap((mode) => [
      { mode, writing: false },
      { mode, writing: true },
    ]);
    const name = (v: { mode: Mode; writing: boolean }): string =>
      `${v.mode}${v.writing ? `, ${RATE / 1000}k SET/s of other keys` : ', no writes'}`;
    const rps = variants.map(() => [] as number[]);
    const bcastMessages: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < variants.length; k++) {
        const i = (k + round) % variants.length;
        const v = variants[i]!;
        const before = await invalidations(proxies[v.mode]);
        const writer = v.writing ? await startWriter(redis.port, RATE, 'batched', cold) : undefined;
        const r = await runWrk({ url: proxies[v.mode].url, pathsFile: paths, connections: 64, seconds: WRK_SECONDS });
        const written = await writer?.stop();
        if (r.errors > 0) throw new Error(`${name(v)}: ${r.errors} errors under wrk`);
        rps[i]!.push(r.rps);
        if (v.mode === 'bcast' && written)
          bcastMessages.push(((await invalidations(proxies.bcast)).messages - before.messages) / written.seconds);
        console.log(
          `round ${round + 1} ${name(v).padEnd(40)} ${r.rps.toFixed(0).padStart(7)} req/s${written ? `  (${(written.sets / written.seconds).toFixed(0)} SET/s)` : ''}`,
        );
      }
    }
    const ratio = (a: number, b: number): number => median(rps[a]!.map((x, r) => x / rps[b]![r]!));
    const [defaultIdle, defaultWrites, bcastIdle, bcastWrites] = [0, 1, 2, 3];

    // 2. The price: writes of cold keys, no reads.
    const price: { label: string; mode: Mode; idle: Window; busy: Window }[] = [];
    for (const [mode, shape] of [
      ['default', 'batched'],
      ['bcast', 'batched'],
      ['bcast', 'sequential'],
    ] as const) {
      const idle = await window(proxies[mode], redis, WINDOW_SECONDS);
      const busy = await window(proxies[mode], redis, WINDOW_SECONDS, () => startWriter(redis.port, RATE, shape, cold));
      price.push({ label: `${mode}, ${shape} writes`, mode, idle, busy });
      console.log(
        `price ${mode} ${shape}: ${(busy.sets / busy.seconds).toFixed(0)} SET/s, ${(busy.messages / busy.seconds).toFixed(0)} messages/s, ${(busy.keys / busy.seconds).toFixed(0)} keys/s`,
      );
    }

    // 3. Staleness at 10k SET/s of cached keys.
    const p99 = { default: [] as number[], bcast: [] as number[] };
    for (let round = 0; round < STALE_ROUNDS; round++) {
      for (const mode of round % 2 === 0 ? MODES : [...MODES].reverse()) {
        const s = await staleness(proxies[mode], redis, RATE, STALE_SECONDS, 1000);
        if (s.measured === 0) throw new Error(`${mode}: no staleness measured`);
        p99[mode].push(s.p99);
        console.log(
          `staleness round ${round + 1} ${mode}: ${s.sets} SETs, ${s.measured} watched, p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, max ${s.max.toFixed(2)} ms`,
        );
      }
    }
    const staleDiff = median(p99.bcast.map((x, r) => x - p99.default[r]!));

    const f = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : '–');
    const us = (ns: number, per: number): string => (per > 0 ? f(ns / 1000 / per) : '–');
    const bars: [string, number, boolean][] = [
      ['bcast hit path ≥ 0.95× default’s, no writes', ratio(bcastIdle, defaultIdle), ratio(bcastIdle, defaultIdle) >= 0.95],
      [
        `bcast hit path under ${RATE / 1000}k SET/s of keys it does not hold ≥ 0.9× with no writes`,
        ratio(bcastWrites, bcastIdle),
        ratio(bcastWrites, bcastIdle) >= 0.9,
      ],
      [`bcast staleness p99 at ${RATE / 1000}k SET/s ≤ default’s + 2 ms (median of per-round differences)`, staleDiff, staleDiff <= 2],
    ];
    lines.push(
      `Run ${new Date().toISOString()}${quick ? ' (--quick)' : ''}: two proxies (TRACKING_MODE=default, =bcast without KEY_PREFIX), default threads, one redis-server; wrk -c 64 over 10k cached keys of 100 B, ${ROUNDS} rotating rounds of ${WRK_SECONDS} s; writes to \`cold:*\` keys no proxy holds.`,
      '',
      '| bar | measured | verdict |',
      '| --- | ---: | --- |',
      ...bars.map(
        ([label, v, ok]) =>
          `| ${label} | ${label.includes('ms') ? `${v >= 0 ? '+' : ''}${f(v)} ms` : `${f(v)}×`} | ${ok ? 'met' : 'missed'} |`,
      ),
      '',
      '| hit path | req/s (median) | × same mode, no writes | rounds |',
      '| --- | ---: | ---: | --- |',
      ...variants.map(
        (v, i) =>
          `| ${name(v)} | ${f(median(rps[i]!), 0)} | ${f(ratio(i, v.mode === 'default' ? defaultIdle : bcastIdle))} | ${rps[i]!.map((x) => x.toFixed(0)).join(', ')} |`,
      ),
      '',
      `Under writes, bcast's proxy received ${bcastMessages.map((m) => m.toFixed(0)).join(', ')} invalidation messages/s (per round) while serving. The default proxy's rounds with writes (${f(ratio(defaultWrites, defaultIdle))}× its rounds without) pay for the writer and Redis, and for the bcast proxy, which receives those writes too, on the same two cores.`,
      '',
      `The price, no reads: ${WINDOW_SECONDS} s of writes against ${WINDOW_SECONDS} s idle (CPU from /proc, idle subtracted).`,
      '',
      '| writes | SET/s | messages/s per proxy | keys/s | keys per message | shard CPU µs per invalidated key | shard CPU share of a core | redis-server CPU µs per SET |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...price.map(({ label, idle, busy }) => {
        const shardNs = busy.shardNs - (idle.shardNs * busy.seconds) / idle.seconds;
        const redisNs = busy.redisNs - (idle.redisNs * busy.seconds) / idle.seconds;
        return `| ${label} | ${f(busy.sets / busy.seconds, 0)} | ${f(busy.messages / busy.seconds, 0)} | ${f(busy.keys / busy.seconds, 0)} | ${busy.messages > 0 ? f(busy.keys / busy.messages, 1) : '–'} | ${us(shardNs, busy.keys)} | ${f((100 * shardNs) / 1e9 / busy.seconds, 1)} % | ${us(redisNs, busy.sets)} |`;
      }),
      '',
      `| staleness at ${RATE / 1000}k SET/s | p99 ms per round |`,
      '| --- | --- |',
      ...MODES.map((mode) => `| ${mode} | ${p99[mode].map((x) => f(x)).join(', ')} |`),
    );
  } finally {
    for (const fn of teardowns.reverse()) await fn();
  }
  const text = lines.join('\n');
  console.log(`\n${text}`);
  writeFileSync(join(ROOT, 'benchmarks/results/tracking-modes.md'), `${text}\n`);
}

main().catch((err: Error) => {
  console.error(`tracking-modes benchmark failed: ${err.message}`);
  process.exitCode = 1;
});
