/**
 * What a Node user would write instead of shardcache: one thread, node:http,
 * lru-cache with a TTL, ioredis `getBuffer`. No coalescing, no shards.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

const cache = new LRUCache<string, Buffer>({
  max: Number(process.env.CACHE_CAPACITY ?? 100000),
  ttl: Number(process.env.CACHE_TTL_MS ?? 30000),
});
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

function reply(res: http.ServerResponse, value: Buffer | null): void {
  if (value === null) {
    res.writeHead(404, ['Content-Length', '0']);
    res.end();
    return;
  }
  res.writeHead(200, ['Content-Type', 'application/octet-stream', 'Content-Length', String(value.length)]);
  res.end(value);
}

const server = http.createServer((req, res) => {
  const key = decodeURIComponent(req.url!.slice(1));
  const hit = cache.get(key);
  if (hit !== undefined) return reply(res, hit);
  redis.getBuffer(key).then(
    (value) => {
      if (value !== null) cache.set(key, Buffer.from(value));
      reply(res, value);
    },
    () => {
      res.writeHead(503);
      res.end();
    },
  );
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stderr.write(`node-lru listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
