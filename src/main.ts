#!/usr/bin/env node
/**
 * Process entry: configuration → shard workers → HTTP listener → RESP
 * listener (when RESP_PORT is set).
 *
 * Reading order for the request path: `http/front.ts` (request → key →
 * shard), `hop/dispatcher.ts` and `hop/wire.ts` (batches across threads),
 * `../workers/shard.ts` and `shard/shard.ts` (cache, coalescing, Redis), then
 * back through the dispatcher to `HttpFront.answer`.
 */
import net from 'node:net';
import { ConfigError, helpText, loadConfig, type Config } from './config.js';
import { Dispatcher } from './hop/dispatcher.js';
import { ShardPool } from './hop/shard-pool.js';
import { HttpFront } from './http/front.js';
import { log } from './log.js';
import { RespServer } from './resp/server.js';
import { redactUrl } from './shard/redis.js';


function readConfig(): Config {
  try {
    const config = loadConfig(process.env, process.argv.slice(2));
    if (config !== 'help') return config;
    process.stdout.write(`${helpText()}\n`);
    process.exit(0);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`shardcache: bad setting: ${err.message}\n`);
    process.exit(2);
  }
}

/**
 * When nothing answers at the Redis address, say in one line how to fix it.
 * The shards keep retrying on their own; this only spares a new user the
 * guesswork.
 */
function hintIfNoRedis(config: Config): void {
  const url = new URL(config.redisUrl);
  const socket = net.connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 6379) });
  socket.setTimeout(1000);
  const fail = (): void => {
    socket.destroy();
    log(
      config.redisUrlGiven
        ? `nothing answers at REDIS_URL ${redactUrl(config.redisUrl)}; check that Redis runs there. Requests answer 503 until it does; retrying in the background.`
        : 'no Redis answers on 127.0.0.1:6379. Start one with `redis-server` (or `docker run -p 6379:6379 redis`), or set REDIS_URL=redis://host:port. Retrying in the background.',
    );
  };
  socket.once('connect', () => socket.destroy());
  socket.once('error', fail);
  socket.once('timeout', fail);
}

/** Listens, or stops the process naming the setting when the port cannot be had. */
function listen(server: net.Server, port: number, host: string, setting: string): Promise<void> {
  server.on('error', (err: NodeJS.ErrnoException) => {
    log(`cannot listen on ${host}:${port}: ${err.code ?? err.message} (${setting})`);
    process.exit(1);
  });
  return new Promise((resolve) => server.listen(port, host, resolve));
}

function hostPort(server: net.Server): string {
  const address = server.address() as net.AddressInfo;
  return `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}

async function main(): Promise<void> {
  const config = readConfig();
  const dispatcher = new Dispatcher(config.shards);
  const pool = new ShardPool(dispatcher, {
    shards: config.shards,
    capacity: config.cacheCapacity,
    ttlMs: config.cacheTtlMs,
    negativeTtlMs: config.negativeTtlMs,
    invalidation: config.invalidation,
    redisUrl: config.redisUrl,
    redisTimeoutMs: config.redisTimeoutMs,
    log,
  });
  hintIfNoRedis(config);
  await pool.start(Math.max(1000, config.redisTimeoutMs));
  const front = new HttpFront(dispatcher, { maxKeyBytes: config.maxKeyBytes, maxConnections: config.maxConnections });
  await listen(front.server, config.port, config.host, 'PORT');
  log(`shardcache listening on http://${hostPort(front.server)} (${config.shards} shards, ${config.cacheCapacity} keys, ttl ${config.cacheTtlMs} ms, invalidation ${config.invalidation}, redis ${redactUrl(config.redisUrl)})`);
  let resp: RespServer | undefined;
  if (config.respPort !== 'off') {
    resp = new RespServer(dispatcher, { maxKeyBytes: config.maxKeyBytes, maxConnections: config.maxConnections });
    await listen(resp.server, config.respPort, config.host, 'RESP_PORT');
    log(`shardcache RESP listening on redis://${hostPort(resp.server)}`);
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    front.server.close();
    front.server.closeIdleConnections();
    resp?.close();
    pool.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: Error) => {
  log(`start-up failed: ${err.message}`);
  process.exit(1);
});
