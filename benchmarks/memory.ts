/**
 * `node dist/benchmarks/memory.js [--quick] [--parts=footprint,lru,4k,stream,varnish]` (also `npm run bench -- --only=memory`):
 * what a cached entry costs in memory, against Redis holding the same data,
 * and whether the cache stays fast and flat when it is large.
 *
 * 1. Bytes per entry: Redis's `used_memory` growth per key after `DEBUG
 *    POPULATE` of N keys of 100 B; then each Node server (shardcache with
 *    SHARDS=1, the node:http + lru-cache server) is filled with those keys by
 *    wrk, and its RSS growth after a forced GC in every thread (through the
 *    inspector: `lib/gc.ts`) is divided by the entries it holds (how it
 *    measures: `lib/footprint.ts`). The same
 *    for 4 KiB values, where the bar is the overhead over the value bytes.
 * 2. Hit throughput over 10k hot keys with N entries cached against a proxy
 *    holding only those 10k, interleaved rounds, median ratio (and p99).
 * 3. A stream of 10 × N distinct keys through CACHE_CAPACITY = N: RSS after
 *    each slice, from 2N requests on, must stay within 10%.
 * 4. Varnish (malloc storage) in front of webdis filled with the same N keys
 *    of 100 B (`lib/varnish-memory.ts`): its cache child's RSS growth, and
 *    varnishstat's `SMA.s0.g_bytes`, each ÷ `MAIN.n_object`, beside Redis's
 *    per key (Varnish has no GC to force; the RSS is read a second after).
 *
 * Every process it starts is stopped by pid, even on failure.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startNode, startRedis, type Proxy, type RedisServer } from '../test/helpers/processes.js';
import { entriesOf, footprint, gaugeOf, populate, settledRss, startInspected, stream, type Teardowns } from './lib/footprint.js';
import { median } from './lib/stats.js';
import { varnishFootprint } from './lib/varnish-memory.js';
import type { LoadResult } from './lib/wrk.js';

const quick = process.argv.includes('--quick');
/** `--parts=footprint,lru,4k,stream,varnish` runs some parts only (the hit-throughput comparison runs with `footprint`). */
const parts = process.argv
  .find((a) => a.startsWith('--parts='))
  ?.slice(8)
  .split(',');
const part = (name: string): boolean => parts === undefined || parts.includes(name);
const N = quick ? 200_000 : 1_000_000;
const N4K = quick ? 20_000 : 100_000;
const HOT = 10_000;
/** Varnish's malloc storage: well above what N objects take (564 B each in SMA.s0, 564 MB at 1M, measured), so none is nuked. */
const VARNISH_STORAGE = '3g';

interface Footprint {
  target: string;
  valueBytes: number;
  entries: number;
  bytesPerEntry: number;
  redisBytesPerKey: number;
}

/** What the parts found, for the summary. */
const rows: Footprint[] = [];
const lines: string[] = [];

/** Bytes per entry of shardcache (100 B values), then its hit path with N cached against 10k cached. */
async function partFootprint(t: Teardowns, redis: RedisServer): Promise<void> {
  const common = { REDIS_URL: redis.url, CACHE_TTL_MS: '3600000', ADMIN_PORT: '0', SHARDS: '1', CACHE_CAPACITY: String(N) };
  const perKey = await populate(redis, 'm', N, 100);
  console.log(`redis: ${perKey.toFixed(1)} B per key of 100 B (${N} keys)`);
  const big = await startInspected(t, 'dist/src/main.js', common);
  const own = await footprint(big, 'm', N, () => entriesOf(big));
  rows.push({
    target: 'shardcache SHARDS=1',
    valueBytes: 100,
    entries: own.entries,
    bytesPerEntry: own.perEntry,
    redisBytesPerKey: perKey,
  });
  // What the store counts for CACHE_MAX_BYTES, beside what the process grew by: the difference is the rest of the process.
  const counted = (await gaugeOf(big, 'shardcache_cache_bytes')) / own.entries;
  console.log(
    `shardcache: ${own.perEntry.toFixed(1)} B per entry by RSS, ${counted.toFixed(1)} B by the store's own count (${own.entries} entries)`,
  );
  lines.push(
    `shardcache SHARDS=1, 100 B values: the store counts ${counted.toFixed(1)} B per entry (shardcache_cache_bytes ÷ entries), the bytes CACHE_MAX_BYTES bounds.`,
    '',
  );
  // The hit-path comparison runs on two proxies started without the
  // inspector: after a session has attached to its threads, a proxy
  // measured about a fifth slower on the hit path whatever it held.
  await big.stop();
  const full = await startNode(t, 'dist/src/main.js', common);
  for (let sent = 0, pass = 0; pass < 20 && (await entriesOf(full)) < N; pass++)
    sent += (await stream(full.url, 'm', sent % N, N, Math.ceil(N / 15000))).requests;
  const small = await startNode(t, 'dist/src/main.js', common);
  await stream(small.url, 'm', 0, HOT, 3);
  const rounds: { big: LoadResult; small: LoadResult }[] = [];
  for (let round = 0; round < (quick ? 2 : 5); round++) {
    const order = round % 2 === 0 ? [full, small] : [small, full];
    const got = new Map<Proxy, LoadResult>();
    for (const proxy of order) got.set(proxy, await stream(proxy.url, 'm', 0, HOT, quick ? 3 : 6));
    rounds.push({ big: got.get(full)!, small: got.get(small)! });
    console.log(
      `round ${round + 1}: ${await entriesOf(full)} cached ${got.get(full)!.rps.toFixed(0)} req/s p99 ${got.get(full)!.p99Ms.toFixed(2)} ms; ${await entriesOf(small)} cached ${got.get(small)!.rps.toFixed(0)} req/s p99 ${got.get(small)!.p99Ms.toFixed(2)} ms`,
    );
  }
  const rps = median(rounds.map((r) => r.big.rps / r.small.rps));
  const p99 = median(rounds.map((r) => r.big.p99Ms / r.small.p99Ms));
  lines.push(
    `Hit path over ${HOT} hot keys with ${N} entries cached ÷ with ${HOT} cached: ${rps.toFixed(2)}× throughput, p99 ${p99.toFixed(2)}× (median of ${rounds.length} interleaved rounds; rounds ${rounds.map((r) => `${r.big.rps.toFixed(0)}/${r.small.rps.toFixed(0)}`).join(', ')} req/s).`,
    '',
  );
}

/** Bytes per entry of the node:http + lru-cache server, same keys. */
async function partLru(t: Teardowns, redis: RedisServer): Promise<void> {
  const perKey = await populate(redis, 'm', N, 100);
  const lru = await startInspected(t, 'dist/benchmarks/servers/node-lru.js', {
    REDIS_URL: redis.url,
    CACHE_CAPACITY: String(N),
    CACHE_TTL_MS: '3600000',
  });
  const own = await footprint(lru, 'm', N);
  rows.push({
    target: 'node:http + lru-cache',
    valueBytes: 100,
    entries: own.entries,
    bytesPerEntry: own.perEntry,
    redisBytesPerKey: perKey,
  });
  console.log(`node:http + lru-cache: ${own.perEntry.toFixed(1)} B per entry`);
}

/** Bytes per entry of shardcache with 4 KiB values. */
async function part4k(t: Teardowns, redis: RedisServer): Promise<void> {
  const perKey = await populate(redis, 'q', N4K, 4096);
  const proxy = await startInspected(t, 'dist/src/main.js', {
    REDIS_URL: redis.url,
    CACHE_TTL_MS: '3600000',
    ADMIN_PORT: '0',
    SHARDS: '1',
    CACHE_CAPACITY: String(N4K),
  });
  const own = await footprint(proxy, 'q', N4K, () => entriesOf(proxy));
  rows.push({
    target: 'shardcache SHARDS=1',
    valueBytes: 4096,
    entries: own.entries,
    bytesPerEntry: own.perEntry,
    redisBytesPerKey: perKey,
  });
  console.log(`shardcache, 4 KiB values: ${own.perEntry.toFixed(1)} B per entry`);
}

/** 10 × N distinct keys through CACHE_CAPACITY = N: RSS after each slice. */
async function partStream(t: Teardowns, redis: RedisServer): Promise<void> {
  await redis.client.call('DEBUG', 'POPULATE', String(10 * N), 's', '100');
  const proxy = await startInspected(t, 'dist/src/main.js', {
    REDIS_URL: redis.url,
    CACHE_TTL_MS: '3600000',
    ADMIN_PORT: '0',
    SHARDS: '1',
    CACHE_CAPACITY: String(N),
  });
  let sent = 0;
  let errors = 0;
  const samples: { requests: number; rss: number }[] = [];
  while (sent < 10 * N) {
    const r = await stream(proxy.url, 's', sent, 10 * N, Math.max(5, Math.ceil(N / 30000)));
    sent += r.requests;
    errors += r.errors;
    samples.push({ requests: sent, rss: await settledRss(proxy) });
    console.log(`streamed ${sent} distinct keys: RSS ${(samples.at(-1)!.rss / 2 ** 20).toFixed(1)} MiB, ${await entriesOf(proxy)} entries`);
  }
  const late = samples.filter((x) => x.requests >= 2 * N);
  const flat = Math.max(...late.map((x) => x.rss)) / Math.min(...late.map((x) => x.rss));
  lines.push(
    `${10 * N} distinct keys through CACHE_CAPACITY=${N}: RSS from ${2 * N} requests on varied by ${((flat - 1) * 100).toFixed(1)}% (max ÷ min), ${errors} errors; samples (requests: MiB) ${samples.map((x) => `${x.requests}: ${(x.rss / 2 ** 20).toFixed(0)}`).join(', ')}.`,
    '',
  );
}

/** Bytes per object of Varnish + webdis, same keys as webdis names them (`/GET/m:<i>.txt`), by RSS and by its storage counter. */
async function partVarnish(t: Teardowns, redis: RedisServer): Promise<void> {
  const perKey = await populate(redis, 'm', N, 100);
  const env = {
    redisUrl: redis.url,
    redisPort: redis.port,
    capacity: N,
    ttlMs: 3_600_000,
    valueBytes: 100,
    varnishStorage: VARNISH_STORAGE,
  };
  const v = await varnishFootprint(t, env, N, (url, start, count, seconds) => stream(url, 'GET/m', start, count, seconds, '.txt'));
  const mib = (b: number): string => (b / 2 ** 20).toFixed(1);
  rows.push({
    target: 'Varnish + webdis: cache child RSS',
    valueBytes: 100,
    entries: v.objects,
    bytesPerEntry: v.rssPerObject,
    redisBytesPerKey: perKey,
  });
  rows.push({
    target: 'Varnish + webdis: SMA.s0.g_bytes',
    valueBytes: 100,
    entries: v.objects,
    bytesPerEntry: v.smaPerObject,
    redisBytesPerKey: perKey,
  });
  const line = `Varnish (malloc,${VARNISH_STORAGE}) + webdis, ${N} keys of 100 B: ${v.objects} objects (MAIN.n_object); cache child RSS ${mib(v.rssBefore)} → ${mib(v.rssAfter)} MiB, ${v.rssPerObject.toFixed(1)} B per object (the manager, not summed, grew ${mib(v.managerGrowth)} MiB; MAIN.threads ${v.threads[0]} → ${v.threads[1]}); SMA.s0.g_bytes ÷ n_object ${v.smaPerObject.toFixed(1)} B; ${v.requests} requests, ${v.errors} errors; ${Object.entries(
    v.counters,
  )
    .map(([k, n]) => `${k} ${n}`)
    .join(', ')}.`;
  console.log(line);
  lines.push(line, '');
}

async function main(): Promise<void> {
  const teardowns: (() => unknown)[] = [];
  const t: Teardowns = { teardown: (fn) => teardowns.push(fn) };
  const stopAll = async (): Promise<void> => {
    for (const fn of teardowns.splice(0).reverse()) await fn();
  };
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));
  try {
    // Each part on a Redis of its own, stopped before the next: the data sets are large.
    for (const [name, run] of [
      ['footprint', partFootprint],
      ['lru', partLru],
      ['4k', part4k],
      ['stream', partStream],
      ['varnish', partVarnish],
    ] as const) {
      if (!part(name)) continue;
      await run(t, await startRedis(t));
      await stopAll();
    }
  } finally {
    await stopAll();
  }
  const table = [
    '| target | value | entries | bytes per entry | Redis used_memory per key | × Redis | overhead over the value |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.target} | ${r.valueBytes} B | ${r.entries} | ${r.bytesPerEntry.toFixed(1)} | ${r.redisBytesPerKey.toFixed(1)} | ${(r.bytesPerEntry / r.redisBytesPerKey).toFixed(2)} | ${(((r.bytesPerEntry - r.valueBytes) / r.valueBytes) * 100).toFixed(1)}% |`,
    ),
    '',
  ];
  const text = [
    `Run ${new Date().toISOString()}${quick ? ' (--quick)' : ''}; bytes per entry: RSS growth after a forced GC in every thread (Varnish: its cache child's, no GC), divided by the entries held; the SMA row is Varnish's storage counter ÷ its objects.`,
    '',
    ...(rows.length > 0 ? table : []),
    ...lines,
  ].join('\n');
  console.log(`\n${text}`);
  writeFileSync(join(ROOT, 'benchmarks/results/memory.md'), text);
}

main().catch((err: Error) => {
  console.error(`memory benchmark failed: ${err.message}`);
  process.exitCode = 1;
});
