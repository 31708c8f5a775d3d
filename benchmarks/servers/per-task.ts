/**
 * shardcache's design without batching, as a reference: the same key
 * decoding, hashing, shards and per-shard LRU, but every request is its own
 * piscina task and every value its own transferred ArrayBuffer. The
 * difference between this and shardcache is what batching buys.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { decodeKey } from '../../src/routing/key.js';
import { shardOf } from '../../src/routing/hash.js';

const shards = Number(process.env.SHARDS ?? Math.max(1, availableParallelism() - 1));
const pools = Array.from(
  { length: shards },
  (_, i) =>
    new Piscina({
      filename: new URL('./per-task-worker.js', import.meta.url).href,
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
      atomics: 'disabled',
      concurrentTasksPerWorker: 4096,
      workerData: {
        redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        capacity: Math.floor(Number(process.env.CACHE_CAPACITY ?? 100000) / shards),
        ttlMs: Number(process.env.CACHE_TTL_MS ?? 30000),
        index: i,
      },
    }),
);

const server = http.createServer((req, res) => {
  const key = decodeKey(req.url!, 1024);
  if (typeof key === 'number') {
    res.writeHead(400, ['Content-Length', '0']);
    res.end();
    return;
  }
  pools[shardOf(key, shards)]!.run(key).then(
    (value: ArrayBuffer | null) => {
      if (value === null) {
        res.writeHead(404, ['Content-Length', '0']);
        res.end();
        return;
      }
      res.writeHead(200, ['Content-Type', 'application/octet-stream', 'Content-Length', String(value.byteLength)]);
      res.end(Buffer.from(value));
    },
    () => {
      res.writeHead(503, ['Content-Length', '0']);
      res.end();
    },
  );
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stderr.write(`per-task listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
