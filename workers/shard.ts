/**
 * Worker-thread entry of a shard, loaded by piscina.
 *
 * Piscina starts and replaces the thread; the request traffic does not go
 * through piscina tasks. The main thread runs one long `attach` task that
 * starts the shard, then one `link` task per acceptor thread, each handing
 * over a MessagePort; from then on request batches and reply batches flow
 * over those ports as transferred ArrayBuffers. The attach task stays in
 * flight for the life of the shard, so its rejection is how the main thread
 * learns that the worker died.
 */
import { threadId, type MessagePort } from 'node:worker_threads';
import type { Eviction } from '../src/cache/policy.js';
import { createLog, type Log } from '../src/log.js';
import { trackEventLoop } from '../src/metrics/event-loop.js';
import { nameThread } from '../src/metrics/thread.js';
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
  /** EVICTION. */
  eviction: Eviction;
  /** STALE_WHILE_REVALIDATE_MS. */
  swrMs: number;
  /** EARLY_REFRESH_BETA. */
  earlyRefreshBeta: number;
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
  index: number;
  /** This shard's share of CACHE_CAPACITY, in keys. */
  capacity: number;
  /** CACHE_CAPACITY, all shards together. */
  totalCapacity: number;
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

/**
 * Sent after `attach`, once per acceptor thread (and again for an acceptor's
 * replacement): the port its request batches come in by and its replies go
 * out by. Resolves at once; the link closes when the acceptor's end does.
 */
export interface LinkTask {
  kind: 'link';
  port: MessagePort;
}

/** Test hook: the worker dies of an uncaught exception, as it would of a bug. Refused unless enabled. */
export interface CrashTask {
  kind: 'crash';
}

/** Closes the Redis connections and ends the attach task (the proxy is stopping). */
export interface StopTask {
  kind: 'stop';
}

let backend: Backend | undefined;
let shard: Shard | undefined;
let log: Log | undefined;
let testHooks = false;
/** Resolves once Redis is ready or REDIS_TIMEOUT_MS has passed: links read their ports from then on. */
let started: Promise<unknown> = Promise.resolve();
let stop: (() => void) | undefined;

/** The piscina task handler: attach a shard, link an acceptor, wait for Redis, stop, or (test hook) crash. */
export default function run(task: AttachTask | LinkTask | ReadyTask | CrashTask | StopTask): Promise<string> {
  if (task.kind === 'attach') return attach(task);
  if (task.kind === 'link') return link(task.port);
  if (task.kind === 'ready') return ready(task.waitMs);
  if (task.kind === 'stop') {
    stop?.();
    return Promise.resolve('stopped');
  }
  return crash();
}

function link(port: MessagePort): Promise<string> {
  const own = shard;
  if (own === undefined) return Promise.reject(new Error('shard not attached'));
  const n = own.link((batch) => port.postMessage(batch, [batch]));
  // Batches wait in the port until Redis is ready (or REDIS_TIMEOUT_MS has
  // passed): a replacement worker then answers the requests sent while it
  // connected instead of failing them for a connection that is seconds old.
  void started.then(() => port.on('message', (batch: ArrayBuffer) => own.receive(batch, n)));
  port.once('close', () => own.unlink(n));
  return Promise.resolve('linked');
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
  const { stats } = task;
  testHooks = task.testHooks;
  const logger = createLog(task.logLevel, { shard: task.index });
  log = logger;
  stats[Stat.Tid] = nameThread(`shard-${task.index}`);
  stats[Stat.ThreadId] = threadId;
  trackEventLoop(stats, Stat.LoopP50);
  const store = (backend = openBackend({ settings: task.backend, label: `shard ${task.index}`, log: logger, stats }));
  const own = new Shard({
    capacity: task.capacity,
    maxBytes: task.maxBytes,
    ttlMs: task.ttlMs,
    staleMs: task.staleMs,
    maxValueBytes: task.maxValueBytes,
    negativeTtlMs: task.negativeTtlMs,
    eviction: task.eviction,
    swrMs: task.swrMs,
    earlyRefreshBeta: task.earlyRefreshBeta,
    stats,
    ...delayedForTests({ fetch: store.fetch, fetchMany: store.fetchMany }, process.env.SHARDCACHE_TEST_DELAY_GET),
  });
  shard = own;
  if (task.invalidation === 'tracking') store.track(own, task.staleMs > 0);
  // One reader of Redis's tracking table per proxy.
  if (task.invalidation === 'tracking' && task.index === 0) store.watchTable(task.totalCapacity);
  started = store.ready(task.backend.timeoutMs);
  return new Promise((resolve) => {
    stop = () => {
      store.close();
      resolve('closed');
    };
  });
}
