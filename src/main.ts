#!/usr/bin/env node
/**
 * Process entry: configuration → shard workers → HTTP listener, admin
 * listener and, when RESP_PORT is set, the RESP listener; SIGTERM/SIGINT
 * drain and stop.
 *
 * Reading order for the request path: `acceptor/http/front.ts` (request → key →
 * shard), `acceptor/dispatcher.ts` and `hop/wire.ts` (batches across threads),
 * `../workers/shard.ts` and `shard/shard.ts` (cache, coalescing, Redis), then
 * back through the dispatcher to `HttpFront.answer`.
 */
import type http from 'node:http';
import net from 'node:net';
import { createAdminServer, shardDegraded, shardProblems } from './control/admin.js';
import { backendSettings, ConfigError, helpText, loadConfig, type Config } from './config.js';
import { Dispatcher } from './acceptor/dispatcher.js';
import { ShardPool } from './control/shard-pool.js';
import { HttpFront, METHODS, STATUS_LABELS } from './acceptor/http/front.js';
import { createLog, type Log } from './log.js';
import { trackEventLoop } from './metrics/event-loop.js';
import { createMetrics, type RequestCounts } from './control/metrics.js';
import { COMMANDS } from './acceptor/resp/commands.js';
import { RESP_STATUSES } from './acceptor/resp/outcomes.js';
import { RespServer } from './acceptor/resp/server.js';
import { redactUrl } from './shard/redis.js';
import { describeBackend } from './shard/endpoints.js';
import { drain } from './control/shutdown.js';

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
function hintIfNoRedis(config: Config, log: Log): void {
  if (config.redisMode !== 'standalone') return;
  const url = new URL(config.redisUrl);
  const socket = net.connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 6379) });
  socket.setTimeout(1000);
  const fail = (): void => {
    socket.destroy();
    log.warn(
      config.redisUrlGiven
        ? `nothing answers at REDIS_URL ${redactUrl(config.redisUrl)}; check that Redis runs there. Requests answer 503 until it does; retrying in the background.`
        : 'no Redis answers on 127.0.0.1:6379. Start one with `redis-server` (or `docker run -p 6379:6379 redis`), or set REDIS_URL=redis://host:port. Retrying in the background.',
    );
  };
  socket.once('connect', () => socket.destroy());
  socket.once('error', fail);
  socket.once('timeout', fail);
}

/** Where a listener is: its setting, its log name and its URL scheme. */
interface Listener {
  what: string;
  setting: string;
  scheme: 'http' | 'redis';
}

/** Listens, logs `<what> listening on <scheme>://…`, and exits 1 with a line naming the setting if the port is taken. */
function listen(server: http.Server | net.Server, on: Listener, port: number, config: Config, log: Log, detail = ''): void {
  server.on('error', (err: NodeJS.ErrnoException) => {
    log.error(`${on.what}: cannot listen on ${config.host}:${port}: ${err.code ?? err.message} (${on.setting})`);
    process.exit(1);
  });
  server.listen(port, config.host, () => {
    const address = server.address() as net.AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    log.info(`${on.what} listening on ${on.scheme}://${host}:${address.port}${detail}`);
  });
}

async function main(): Promise<void> {
  const config = readConfig();
  const log = createLog(config.logLevel);
  const mainLoop = new Float64Array(3);
  trackEventLoop(mainLoop, 0);
  const dispatcher = new Dispatcher(config.shards, config.maxInflight);
  const pool = new ShardPool(dispatcher, {
    shards: config.shards,
    capacity: config.cacheCapacity,
    maxBytes: config.cacheMaxBytes,
    ttlMs: config.cacheTtlMs,
    staleMs: config.staleIfErrorMs,
    maxValueBytes: config.maxValueBytes,
    negativeTtlMs: config.negativeTtlMs,
    invalidation: config.invalidation,
    backend: backendSettings(config),
    log,
    logLevel: config.logLevel,
    testHooks: config.testHooks,
  });
  hintIfNoRedis(config, log);
  await pool.start(Math.max(1000, config.redisTimeoutMs));
  const front = new HttpFront(dispatcher, { ...config, ttlMs: config.cacheTtlMs, staleMs: config.staleIfErrorMs });
  const resp = config.respPort === 'off' ? undefined : new RespServer(dispatcher, { maxKeyBytes: config.maxKeyBytes, maxConnections: config.maxConnections, password: config.respPassword });
  let stopping = false;
  const requests: RequestCounts[] = [{ protocol: 'http', counts: front.counts, commands: METHODS, statuses: STATUS_LABELS }];
  if (resp) requests.push({ protocol: 'resp', counts: resp.counts, commands: COMMANDS, statuses: RESP_STATUSES });
  const registry = createMetrics({ requests, inflightOf: dispatcher.inflightOf, shed: dispatcher.shed, restarts: pool.restarts, shardStats: pool.stats, mainLoop });
  const admin = config.adminPort === 'off' ? undefined : createAdminServer({
    registry,
    shards: config.shards,
    notReady: () => (stopping ? ['stopping'] : shardProblems(dispatcher, pool.stats, config.redisMode)),
    degraded: () => shardDegraded(pool.stats),
    ...(config.testHooks ? { killShard: (i: number) => pool.kill(i) } : {}),
  });
  if (config.testHooks && admin) log.warn('SHARDCACHE_TEST_HOOKS=1: the admin port can kill shards; never use this in production');
  listen(front.server, { what: 'shardcache', setting: 'PORT', scheme: 'http' }, config.port, config, log, ` (${config.shards} shards, ${config.cacheCapacity} keys${config.cacheMaxBytes > 0 ? ` or ${config.cacheMaxBytes} bytes` : ''}, ttl ${config.cacheTtlMs} ms, invalidation ${config.invalidation}, ${describeBackend(backendSettings(config))})`);
  if (admin) listen(admin, { what: 'admin', setting: 'ADMIN_PORT', scheme: 'http' }, config.adminPort as number, config, log, ' (/metrics, /healthz, /readyz)');
  if (resp) listen(resp.server, { what: 'shardcache RESP', setting: 'RESP_PORT', scheme: 'redis' }, config.respPort as number, config, log, resp.password ? ' (AUTH required: RESP_PASSWORD is set)' : '');

  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    front.draining = true;
    resp?.close();
    const started = performance.now();
    log.info(`${signal}: stopping; draining ${dispatcher.inFlight} requests in flight`);
    drain({ servers: [front.server], close: () => pool.close(), timeoutMs: config.shutdownTimeoutMs }).then((code) => {
      const answered = front.counts.reduce((a, b) => a + b, 0);
      const how = code === 0 ? 'drained' : `cut connections still open after SHUTDOWN_TIMEOUT_MS (${config.shutdownTimeoutMs} ms)`;
      log.info(`stopped: ${how} in ${Math.round(performance.now() - started)} ms; answered ${answered} of ${front.received} requests received`);
      admin?.close();
      process.exit(code);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: Error) => {
  createLog('info').fatal(`start-up failed: ${err.message}`);
  process.exit(1);
});
