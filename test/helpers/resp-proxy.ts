/**
 * The proxy the RESP listener tests (resp.test.ts, resp-commands.test.ts) run
 * against: four shards, a RESP port, MAX_KEY_BYTES=64, in front of a private
 * redis-server; ioredis clients to it; and Redis's own count of a command.
 */
import { Redis } from 'ioredis';
import { commandCalls } from './commandstats.js';
import { startProxy, startRedis } from './processes.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Starts Redis and the proxy, both stopped at `t`'s teardown. */
export async function respProxy(t: Teardown) {
  const redis = await startRedis(t);
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '4', RESP_PORT: '0', CACHE_TTL_MS: '60000', MAX_KEY_BYTES: '64' });
  const port = proxy.respPort!;

  /** An ioredis client to the proxy, disconnected at `t`'s teardown. */
  function client(options: { protocol?: 2 | 3 } = {}): Redis {
    const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, ...options });
    t.teardown(() => c.disconnect());
    return c;
  }

  /** How many times Redis has run the command `name`. */
  const calls = (name: string): Promise<number> => commandCalls(redis.client, name);
  return { redis, proxy, port, client, calls };
}
