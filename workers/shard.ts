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
import { log } from '../src/log.js';
import { Shard } from '../src/shard/shard.js';
import { Invalidation } from '../src/shard/invalidation.js';
import { connectRedis, corking, redisFetch, type RedisConnection } from '../src/shard/redis.js';
import { delayedForTests } from '../src/shard/test-delay.js';

/** What the main thread sends to bring a shard up. */
export interface AttachTask {
  kind: 'attach';
  port: MessagePort;
  index: number;
  capacity: number;
  ttlMs: number;
  negativeTtlMs: number;
  invalidation: 'tracking' | 'ttl';
  redisUrl: string;
  redisTimeoutMs: number;
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

let connection: RedisConnection | undefined;
let invalidation: Invalidation | undefined;

export default function run(task: AttachTask | ReadyTask): Promise<string> {
  return task.kind === 'attach' ? attach(task) : ready(task.waitMs);
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

function attach(task: AttachTask): Promise<string> {
  const { port } = task;
  const own = connectRedis({
    url: task.redisUrl,
    timeoutMs: task.redisTimeoutMs,
    label: `shard ${task.index}`,
    log,
  });
  connection = own;
  const shard = new Shard({
    capacity: task.capacity,
    ttlMs: task.ttlMs,
    negativeTtlMs: task.negativeTtlMs,
    fetch: delayedForTests(redisFetch(own.redis), process.env.SHARDCACHE_TEST_DELAY_GET),
    ...corking(own.redis),
    send: (batch) => port.postMessage(batch, [batch]),
  });
  if (task.invalidation === 'tracking') {
    invalidation = new Invalidation({ url: task.redisUrl, timeoutMs: task.redisTimeoutMs, data: own.redis, target: shard, label: `shard ${task.index}`, log });
  }
  port.on('message', (batch: ArrayBuffer) => shard.receive(batch));
  return new Promise((resolve) => {
    port.once('close', () => {
      invalidation?.close();
      own.close();
      resolve('closed');
    });
  });
}
