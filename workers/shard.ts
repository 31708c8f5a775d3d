/**
 * Worker-thread entry of a shard, loaded by piscina.
 *
 * Piscina starts, names and replaces the thread; the request traffic does not
 * go through piscina tasks. The main thread runs one long `attach` task that
 * hands over a MessagePort, and from then on request batches and reply
 * batches flow over that port as transferred ArrayBuffers. The task stays in
 * flight for the life of the shard, so its rejection is how the main thread
 * learns that the worker died.
 */
import type { MessagePort } from 'node:worker_threads';
import { createLog, type Log } from '../src/log.js';
import { trackEventLoop } from '../src/metrics/event-loop.js';
import { Stat } from '../src/metrics/shard-stats.js';
import { openBackend, type Backend } from '../src/shard/backend.js';
import type { BackendSettings } from '../src/shard/endpoints.js';
import { Shard } from '../src/shard/shard.js';
import { delayedForTests } from '../src/shard/test-delay.js';

/** The settings every shard is started with, the same for all of them (from `Config`). */
export interface ShardSettings {
  ttlMs: number;
  staleMs: number;
  maxValueBytes: number;
  negativeTtlMs: number;
  invalidation: 'tracking' | 'ttl';
  /** Where Redis is (standalone, sentinel or cluster) and REDIS_TIMEOUT_MS. */
  backend: BackendSettings;
  /** Level of the worker's own logger. */
  logLevel: string;
  /** Whether `crash` tasks are obeyed (SHARDCACHE_TEST_HOOKS=1). */
  testHooks: boolean;
}

/** What the main thread sends to bring a shard up. */
export interface AttachTask extends ShardSettings {
  kind: 'attach';
  port: MessagePort;
  index: number;
  /** This shard's share of CACHE_CAPACITY, in keys. */
  capacity: number;
  /** This shard's share of CACHE_MAX_BYTES; Infinity when there is no byte limit. */
  maxBytes: number;
  /** The shard's stats over a SharedArrayBuffer, the same one across replacements (`newShardStats`). */
  stats: Float64Array;
}

/**
 * Sent after `attach`: resolves once the shard's Redis connection is ready,
 * or after `waitMs` if Redis does not answer, so that the proxy starts
 * listening with its shards connected whenever Redis is there.
 */
export interface ReadyTask {
  kind: 'ready';
  waitMs: number;
}

/** Test hook: the worker dies of an uncaught exception, as it would of a bug. Refused unless enabled. */
export interface CrashTask {
  kind: 'crash';
}

let backend: Backend | undefined;
let log: Log | undefined;
let testHooks = false;

/** The piscina task handler: attach a shard, wait for its Redis, or (test hook) crash. */
export default function run(task: AttachTask | ReadyTask | CrashTask): Promise<string> {
  if (task.kind === 'attach') return attach(task);
  if (task.kind === 'ready') return ready(task.waitMs);
  return crash();
}

function ready(waitMs: number): Promise<string> {
  if (backend === undefined) return Promise.reject(new Error('shard not attached'));
  return backend.ready(waitMs);
}

function crash(): Promise<string> {
  if (!testHooks) return Promise.reject(new Error('test hooks are off (SHARDCACHE_TEST_HOOKS=1 enables them)'));
  log!.error('killed by the test hook');
  setImmediate(() => {
    throw new Error('shard killed by the test hook');
  });
  return new Promise(() => {});
}

function attach(task: AttachTask): Promise<string> {
  const { port, stats } = task;
  testHooks = task.testHooks;
  const own = createLog(task.logLevel, { shard: task.index });
  log = own;
  trackEventLoop(stats, Stat.LoopP50);
  const store = (backend = openBackend({ settings: task.backend, label: `shard ${task.index}`, log: own, stats }));
  const shard = new Shard({
    capacity: task.capacity,
    maxBytes: task.maxBytes,
    ttlMs: task.ttlMs,
    staleMs: task.staleMs,
    maxValueBytes: task.maxValueBytes,
    negativeTtlMs: task.negativeTtlMs,
    stats,
    ...delayedForTests({ fetch: store.fetch, fetchMany: store.fetchMany }, process.env.SHARDCACHE_TEST_DELAY_GET),
    send: (batch) => port.postMessage(batch, [batch]),
  });
  if (task.invalidation === 'tracking') store.track(shard, task.staleMs > 0);
  // Batches wait in the port until Redis is ready (or REDIS_TIMEOUT_MS has
  // passed): a replacement worker then answers the requests sent while it
  // connected instead of failing them for a connection that is seconds old.
  void store.ready(task.backend.timeoutMs).then(() => port.on('message', (batch: ArrayBuffer) => shard.receive(batch)));
  return new Promise((resolve) => {
    port.once('close', () => {
      store.close();
      resolve('closed');
    });
  });
}
