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
import { Invalidation } from '../src/shard/invalidation.js';
import { Shard } from '../src/shard/shard.js';
import { connectRedis, PING_MS, redisFetch, redisFetchMany, type RedisConnection } from '../src/shard/redis.js';
import { delayedForTests } from '../src/shard/test-delay.js';

/** The settings every shard is started with, the same for all of them (from `Config`). */
export interface ShardSettings {
  ttlMs: number;
  staleMs: number;
  maxValueBytes: number;
  negativeTtlMs: number;
  invalidation: 'tracking' | 'ttl';
  redisUrl: string;
  redisTimeoutMs: number;
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

let connection: RedisConnection | undefined;
let invalidation: Invalidation | undefined;
let log: Log | undefined;
let testHooks = false;

/** The piscina task handler: attach a shard, wait for its Redis, or (test hook) crash. */
export default function run(task: AttachTask | ReadyTask | CrashTask): Promise<string> {
  if (task.kind === 'attach') return attach(task);
  if (task.kind === 'ready') return ready(task.waitMs);
  return crash();
}

function ready(waitMs: number): Promise<string> {
  const redis = connection?.redis;
  if (redis === undefined) return Promise.reject(new Error('shard not attached'));
  // With tracking, ready means armed too: until then nothing is cached.
  const isReady = (): boolean => redis.status === 'ready' && (invalidation?.settled ?? true);
  if (isReady()) return Promise.resolve('ready');
  return new Promise((resolve) => {
    const check = (): void => {
      if (isReady()) done();
    };
    const done = (): void => {
      clearTimeout(timer);
      redis.off('ready', check);
      invalidation?.off('settled', check);
      resolve(isReady() ? 'ready' : 'redis unreachable');
    };
    const timer = setTimeout(done, waitMs);
    redis.on('ready', check);
    invalidation?.on('settled', check);
  });
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
  stats[Stat.RedisUp] = 0;
  connection = connectRedis({
    url: task.redisUrl,
    timeoutMs: task.redisTimeoutMs,
    label: `shard ${task.index}`,
    log: own,
    onUp: (up) => (stats[Stat.RedisUp] = up ? 1 : 0),
    // In both INVALIDATION modes: a data link that died silently would
    // otherwise fail every read by timeout and never be replaced.
    pingMs: PING_MS,
  });
  const redis = connection;
  const shard = new Shard({
    capacity: task.capacity,
    maxBytes: task.maxBytes,
    ttlMs: task.ttlMs,
    staleMs: task.staleMs,
    maxValueBytes: task.maxValueBytes,
    negativeTtlMs: task.negativeTtlMs,
    stats,
    ...delayedForTests({ fetch: redisFetch(redis.redis), fetchMany: redisFetchMany(redis.redis) }, process.env.SHARDCACHE_TEST_DELAY_GET),
    send: (batch) => port.postMessage(batch, [batch]),
  });
  if (task.invalidation === 'tracking') {
    invalidation = new Invalidation({ url: task.redisUrl, timeoutMs: task.redisTimeoutMs, data: redis.redis, target: shard, label: `shard ${task.index}`, log: own, keepWhileDown: task.staleMs > 0, stats });
  }
  // Batches wait in the port until Redis is ready (or REDIS_TIMEOUT_MS has
  // passed): a replacement worker then answers the requests sent while it
  // connected instead of failing them for a connection that is seconds old.
  void ready(task.redisTimeoutMs).then(() => port.on('message', (batch: ArrayBuffer) => shard.receive(batch)));
  return new Promise((resolve) => {
    port.once('close', () => {
      invalidation?.close();
      redis.close();
      resolve('closed');
    });
  });
}
