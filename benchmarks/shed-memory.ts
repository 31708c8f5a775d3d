/**
 * `node dist/benchmarks/shed-memory.js [--quick]`: what the load-shedding
 * bounds cost in memory (issue 25), the figures docs/configuration.md#load-shedding gives.
 *
 * 1. The built proxy (SHARDS=1, its inspector open so that a full GC can be
 *    forced in every thread, `lib/gc.ts`): RSS growth per idle connection
 *    (N opened), then per waiting miss: the same N connections each send one
 *    GET of a key not cached while Redis is held in DEBUG SLEEP, and once
 *    `shardcache_waiting_requests` says all N wait, the RSS growth ÷ N. That
 *    is the whole cost of a request held in the proxy: node:http's request
 *    and response, the dispatcher's slot, the request batch, the flight and
 *    the MGET queued in ioredis. Three rounds, each with its own keys.
 * 2. In-process, the parts apart (after a full GC, ÷ N): a request queued in
 *    the hand-off (a `Dispatcher` whose shard end never reads: its slot and
 *    its bytes in the posted batches; RSS), and a miss waiting in a `Shard`
 *    against a Redis held in DEBUG SLEEP (flight, waiter, key, fetch and the
 *    command in ioredis's queue; heap and array buffers).
 *
 * Every process it starts is stopped by pid, even on failure.
 */
import { MessageChannel } from 'node:worker_threads';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Dispatcher } from '../src/acceptor/dispatcher.js';
import { BatchWriter } from '../src/hop/wire.js';
import { Protocol } from '../src/hop/vocabulary.js';
import { connectRedis, redisFetch, redisFetchMany } from '../src/shard/redis/redis.js';
import { Shard } from '../src/shard/shard.js';
import { scrape, total } from '../test/helpers/metrics.js';
import { startNode, startRedis, stopProcess, type Proxy, type RedisServer } from '../test/helpers/processes.js';
import { crowd, getAll, getEach } from '../test/helpers/sockets.js';
import { sleep } from '../test/helpers/time.js';
import { forceGc, inspectorUrl, rssOf } from './lib/gc.js';
import { median } from './lib/stats.js';

const quick = process.argv.includes('--quick');
const N = quick ? 2000 : 5000;
const ROUNDS = 3;
const IN_PROCESS = quick ? 100_000 : 400_000;

const teardowns: (() => unknown)[] = [];
const t = { teardown: (fn: () => unknown) => void teardowns.push(fn) };

async function settledRss(proxy: Proxy): Promise<number> {
  await forceGc(inspectorUrl(proxy.logs()));
  await sleep(300);
  return rssOf(proxy.child.pid!);
}

/** Bytes per idle connection and per waiting miss, over one round of `N` connections. */
async function round(redis: RedisServer, r: number): Promise<{ perConnection: number; perWaiting: number }> {
  const env = {
    REDIS_URL: redis.url,
    SHARDS: '1',
    ACCEPTORS: '1',
    MAX_INFLIGHT: String(2 * N),
    REDIS_TIMEOUT_MS: '20000',
    NODE_OPTIONS: '--inspect=127.0.0.1:0',
  };
  const proxy = await startNode(t, 'dist/src/main.js', { ADMIN_PORT: '0', ...env });
  const keys = Array.from({ length: N }, (_, i) => `sm:${r}:${i}`);
  await redis.client.mset(...keys.flatMap((k) => [k, 'x'.repeat(100)]));
  const empty = await settledRss(proxy);
  const { probe, sockets } = await crowd(t, proxy, N, '/sm:warm');
  const idle = await settledRss(proxy);
  // A read just before the sleep: the shard's link check calls a Redis silent for 2 s dead.
  await getAll([probe], () => '/sm:absent');
  const sleeper = redis.client.duplicate();
  const slept = sleeper.call('DEBUG', 'SLEEP', '1.8');
  await sleep(30);
  const answers = Promise.all(getEach(sockets, (i) => `/${keys[i]}`));
  while (total(await scrape(proxy.admin), 'shardcache_waiting_requests') < N) await sleep(10);
  const waiting = await settledRss(proxy);
  const statuses = (await answers).map((a) => a.status);
  await slept;
  sleeper.disconnect();
  if (statuses.some((s) => s !== 200)) throw new Error(`round ${r}: not every waiting miss was answered 200`);
  for (const s of [probe, ...sockets]) s.destroy();
  await stopProcess(proxy.child);
  return { perConnection: (idle - empty) / N, perWaiting: (waiting - idle) / N };
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heap = (): number => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/**
 * Bytes of RSS per request queued in a dispatcher whose shard never reads
 * (its slot, and its bytes in the posted batches). RSS, not the heap: a
 * posted batch's buffer leaves this isolate's count while it waits in the
 * port. A first pass of the same size warms the code and the allocator.
 */
function queuedInHandOff(): number {
  const keys = Array.from({ length: IN_PROCESS }, (_, i) => `queued:key:${i}`);
  const sink = { protocol: Protocol.Http, answer: () => undefined, released: () => true };
  let perRequest = 0;
  for (let pass = 0; pass < 2; pass++) {
    const dispatcher = new Dispatcher(1);
    const { port1, port2 } = new MessageChannel();
    dispatcher.attach(0, port1);
    heap();
    const before = process.memoryUsage().rss;
    for (let i = 0; i < IN_PROCESS; i++) dispatcher.submit(0, keys[i]!, sink, i, 0);
    heap();
    perRequest = (process.memoryUsage().rss - before) / IN_PROCESS;
    port1.close();
    port2.close();
  }
  return perRequest;
}

/** Bytes per miss waiting in a shard on a sleeping Redis. */
async function waitingInShard(redis: RedisServer): Promise<number> {
  const connection = connectRedis({ url: redis.url, timeoutMs: 60000, label: 'bench', log: { info() {}, warn() {}, error() {} } });
  await new Promise((resolve) => connection.redis.once('ready', resolve));
  const shard = new Shard({
    capacity: 10,
    cacheTtlMs: 60000,
    fetch: redisFetch(connection.redis),
    fetchMany: redisFetchMany(connection.redis),
  });
  shard.link(() => undefined);
  const batches: ArrayBuffer[] = [];
  for (let i = 0; i < IN_PROCESS; i += 64) {
    const w = new BatchWriter();
    for (let j = i; j < Math.min(i + 64, IN_PROCESS); j++) w.addKey(j, `waiting:key:${j}`, Protocol.Http);
    batches.push(w.finish());
  }
  const sleeper = redis.client.duplicate();
  const slept = sleeper.call('DEBUG', 'SLEEP', '5');
  await sleep(30);
  const before = heap();
  for (const b of batches) shard.receive(b, 0);
  batches.length = 0;
  const bytes = heap() - before;
  if (shard.limit.waiting !== IN_PROCESS) throw new Error(`${shard.limit.waiting} waiting, not ${IN_PROCESS}`);
  await slept;
  sleeper.disconnect();
  connection.close();
  return bytes / IN_PROCESS;
}

try {
  const redis = await startRedis(t);
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push(await round(redis, r));
  const kib = (bytes: number): string => `${(bytes / 1024).toFixed(2)} KiB`;
  console.log(`built proxy, ${N} connections, ${ROUNDS} rounds (RSS after a forced GC in every thread):`);
  for (const [i, r] of rounds.entries())
    console.log(`  round ${i + 1}: ${kib(r.perConnection)} per idle connection, ${kib(r.perWaiting)} per waiting miss`);
  console.log(
    `  median: ${kib(median(rounds.map((r) => r.perConnection)))} per idle connection, ${kib(median(rounds.map((r) => r.perWaiting)))} per waiting miss`,
  );
  console.log(`in-process, ${IN_PROCESS} requests (after a full GC):`);
  console.log(`  queued in the hand-off (dispatcher slot, posted batch bytes): ${queuedInHandOff().toFixed(0)} B of RSS per request`);
  console.log(
    `  waiting in the shard (flight, waiter, key, fetch, ioredis command): ${(await waitingInShard(redis)).toFixed(0)} B of heap and array buffers per miss`,
  );
} finally {
  for (const fn of teardowns.reverse()) await fn();
}
