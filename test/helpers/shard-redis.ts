/**
 * A shard over a real Redis connection for the in-process shard tests
 * (shard.test.ts, shard-errors.test.ts): the connection, its log lines, and
 * `makeShard`, which counts the keys it fetches and records every reply batch.
 */
import { Shard, type Fetch, type FetchMany } from '../../src/shard/shard.js';
import { connectRedis, redisFetch, redisFetchMany } from '../../src/shard/redis/redis.js';
import { decode, linked, type Reply } from './batches.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Connects to `url` (closed at `t`'s teardown) and resolves once the connection is ready. */
export async function redisShards(t: Teardown, url: string) {
  const logs: string[] = [];
  const connection = connectRedis({
    url,
    timeoutMs: 300,
    label: 'test',
    log: { info: (l) => logs.push(l), warn: (l) => logs.push(l), error: (l) => logs.push(l) },
  });
  t.teardown(() => connection.close());
  await new Promise((resolve) => connection.redis.once('ready', resolve));

  /** A shard over the real connection that counts the keys it fetches and records every reply batch. */
  function makeShard(options: { capacity?: number; cacheTtlMs?: number; now?: () => number } = {}) {
    const replies: Reply[][] = [];
    let waiting: (() => void) | undefined;
    const one = redisFetch(connection.redis);
    const many = redisFetchMany(connection.redis);
    /** Keys asked of Redis, by GET and by MGET; and the MGETs. */
    const counter = { gets: 0, mgetKeys: 0, mgets: 0 };
    const fetch: Fetch = (key) => {
      counter.gets++;
      return one(key);
    };
    const fetchMany: FetchMany = (keys) => {
      counter.mgets++;
      counter.mgetKeys += keys.length;
      return many(keys);
    };
    const shard = linked(
      new Shard({
        capacity: options.capacity ?? 10,
        cacheTtlMs: options.cacheTtlMs ?? 60000,
        fetch,
        fetchMany,
        ...(options.now ? { now: options.now } : {}),
      }),
      (b) => {
        replies.push(decode(b));
        waiting?.();
      },
    );
    /** Resolves once `n` reply entries have arrived in total. */
    const entries = async (n: number): Promise<Reply[]> => {
      while (replies.flat().length < n) await new Promise<void>((resolve) => (waiting = resolve));
      return replies.flat();
    };
    return { shard, replies, counter, entries };
  }
  return { connection, logs, makeShard };
}
