/** Worker of the one-task-per-request reference (`per-task.ts`): store lookup, else ioredis GET. */
import { Piscina } from 'piscina';
import { workerData } from 'node:worker_threads';
import { MISS, Store } from '../../src/cache/store.js';
import { connectRedis } from '../../src/shard/redis/redis.js';

const { redisUrl, capacity, ttlMs, index } = workerData as { redisUrl: string; capacity: number; ttlMs: number; index: number };
const cache = new Store({ capacity, ttl: ttlMs });
const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const { redis } = connectRedis({ url: redisUrl, timeoutMs: 1000, label: `per-task shard ${index}`, log: quiet });

function transfer(value: Buffer): unknown {
  const out = Buffer.allocUnsafeSlow(value.length);
  value.copy(out);
  return Piscina.move(out.buffer as ArrayBuffer);
}

export default async function get(key: string): Promise<unknown> {
  const now = performance.now();
  const hit = cache.getKey(key, now);
  if (hit !== MISS) return transfer(cache.value(hit));
  const value = await redis.getBuffer(Buffer.from(key, 'latin1'));
  if (value === null) return null;
  cache.set(key, value, now);
  return transfer(value);
}
