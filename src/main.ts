#!/usr/bin/env node
/**
 * Process entry, on the main thread: configuration → the supervisor (shard
 * workers, then acceptor 0 on this thread and acceptors 1…A−1 in workers,
 * all listening on the same ports) → the admin listener; SIGTERM/SIGINT
 * drain every acceptor, then stop the shards. docs/architecture.md has the
 * page on which thread owns what.
 *
 * Reading order for the request path: `acceptor/http/front.ts` (request → key →
 * shard), `acceptor/dispatcher.ts` and `hop/wire.ts` (batches across threads),
 * `../workers/shard.ts` and `shard/shard.ts` (cache, coalescing, Redis), then
 * back through the dispatcher to `HttpFront.answer`.
 */
import type http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { Acceptor, ListenError } from './acceptor/acceptor.js';
import { backendSettings, ConfigError, helpText, loadConfig, type Config } from './config.js';
import { createAdminServer } from './control/admin.js';
import { degradedShards } from './control/backend-health.js';
import { createMetrics, type MetricSources } from './control/metrics.js';
import { keepMainTickLog } from './control/profiling.js';
import { snapshotJson, statusSettings, takeSnapshot, type SnapshotFacts } from './control/stats-snapshot.js';
import { Supervisor } from './control/supervisor.js';
import { fileLimitWarning, openFileLimit } from './file-limit.js';
import { createLog, type Log } from './log.js';
import { AcceptorStat } from './metrics/acceptor-stats.js';
import { trackEventLoop } from './metrics/event-loop.js';
import { nameThread } from './metrics/thread.js';
import { describeBackend } from './routing/backend-settings.js';
import { unprotected } from './protected-mode.js';
import { redactUrl } from './redact.js';
import { describeTls, reloadServer } from './tls-context.js';
import { VERSION } from './version.js';

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

async function main(): Promise<void> {
  keepMainTickLog();
  const config = readConfig();
  const [httpScheme, respScheme] = config.tls ? ['https', 'rediss'] : ['http', 'redis'];
  const log = createLog(config.logLevel);
  let acceptor0: Acceptor | undefined;
  const supervisor = new Supervisor(config, log, (o) => (acceptor0 = new Acceptor(o)));
  const mainStats = supervisor.acceptorStats[0]!;
  mainStats[AcceptorStat.Tid] = nameThread('shardcache');
  trackEventLoop(mainStats, AcceptorStat.LoopP50);
  hintIfNoRedis(config, log);
  const open = unprotected(config);
  if (open.length > 0)
    log.warn(`PROTECTED_MODE=off: ${open.join(' and ')} without ACCESS_FILE: every client that reaches the proxy reads every key`);
  const fileLimit = fileLimitWarning(openFileLimit(), config.maxConnections, config.respPort === 'off' ? 1 : 2);
  if (fileLimit !== undefined) log.warn(fileLimit);
  let ports: Awaited<ReturnType<typeof supervisor.start>>;
  try {
    ports = await supervisor.start(Math.max(1000, config.redisTimeoutMs));
  } catch (err) {
    if (!(err instanceof ListenError)) throw err;
    log.error(`shardcache: ${err.message}`);
    process.exit(1);
  }
  const threads = `${config.acceptors} acceptor${config.acceptors === 1 ? '' : 's'}, ${config.shards} shard${config.shards === 1 ? '' : 's'}`;
  const cache = `${config.cacheCapacity} keys${config.cacheMaxBytes > 0 ? ` or ${config.cacheMaxBytes} bytes` : ''}, ttl ${config.cacheTtlMs} ms, invalidation ${config.invalidation}${config.invalidation === 'tracking' ? ` (${config.trackingMode})` : ''}`;
  log.info(
    `shardcache listening on ${url(httpScheme, config.host, ports.http)} (${threads}, ${cache}, ${describeBackend(backendSettings(config))})`,
  );
  log.info(`threads: ${supervisor.threadMap()}`);
  if (config.tls !== undefined) log.info(`TLS on every listener: ${describeTls(config.tls)}`);
  if (ports.resp !== undefined)
    log.info(
      `shardcache RESP listening on ${url(respScheme, config.host, ports.resp)}${config.respPassword ? ' (AUTH required: RESP_PASSWORD is set)' : ''}`,
    );

  let stopping = false;
  const settings = statusSettings(config, {
    http: url(httpScheme, config.host, ports.http),
    resp: ports.resp === undefined ? null : url(respScheme, config.host, ports.resp),
  });
  // One set of sources for /metrics and /stats.json: no second bookkeeping.
  const sources: MetricSources = {
    acceptorStats: supervisor.acceptorStats,
    acceptorRestarts: supervisor.acceptorRestarts,
    resp: ports.resp !== undefined,
    inflight: supervisor.counters.inflight,
    shardStats: supervisor.shards.stats,
    shardRestarts: supervisor.shards.restarts,
    info: { version: VERSION, invalidation: config.invalidation, redis_mode: settings.redis.mode, tracking_mode: config.trackingMode },
  };
  const registry = createMetrics(sources);
  const facts: SnapshotFacts = {
    version: VERSION,
    startedAt: Math.round(performance.timeOrigin),
    settings,
    problems: () => (stopping ? ['stopping'] : supervisor.problems()),
    attached: (shard) => supervisor.acceptor.dispatcher.attached(shard),
    files: () => supervisor.files,
  };
  // Opened only once the data listeners listen: see Acceptor.listen.
  const admin =
    config.adminPort === 'off'
      ? undefined
      : createAdminServer({
          registry,
          snapshot: () => takeSnapshot(sources, facts),
          snapshotJson: snapshotJson(sources, facts),
          shards: config.shards,
          acceptors: config.acceptors,
          notReady: facts.problems,
          degraded: () => degradedShards(supervisor.shards.stats),
          tls: config.tls,
          access: acceptor0?.access,
          ...(config.testHooks
            ? { killShard: (i: number) => supervisor.shards.kill(i), killAcceptor: (i: number) => supervisor.killAcceptor(i) }
            : {}),
        });
  if (config.testHooks && admin)
    log.warn('SHARDCACHE_TEST_HOOKS=1: the admin port can kill shards and acceptors; never use this in production');
  if (admin) listenAdmin(admin, config, log);

  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    const started = performance.now();
    const inflight = supervisor.counters.inflight.reduce((a, b) => a + b, 0);
    log.info(
      `${signal}: stopping; draining ${inflight} requests in flight on ${config.acceptors} acceptor${config.acceptors === 1 ? '' : 's'}`,
    );
    void supervisor.stop(config.shutdownTimeoutMs).then(({ code, answered, received }) => {
      const how = code === 0 ? 'drained' : `cut connections still open after SHUTDOWN_TIMEOUT_MS (${config.shutdownTimeoutMs} ms)`;
      log.info(`stopped: ${how} in ${Math.round(performance.now() - started)} ms; answered ${answered} of ${received} requests received`);
      admin?.close();
      process.exit(code);
    });
  };
  process.on('SIGHUP', () => reload(supervisor, log, admin));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/**
 * SIGHUP: every acceptor loads its files again. One line per file: info
 * when it loaded, error (naming the setting and the file) when it did not,
 * in which case the acceptors keep what they had.
 */
function reload(supervisor: Supervisor, log: Log, admin: http.Server | undefined): void {
  void supervisor.reload().then((files) => {
    // The admin listener takes acceptor 0's TLS files: the same ones, read once.
    const tlsInForce = supervisor.acceptor.tls;
    if (admin instanceof tls.Server && tlsInForce !== undefined) reloadServer(admin, tlsInForce);
    if (files.length === 0) log.info('SIGHUP: no file to reload (none of ACCESS_FILE, TLS_CERT_FILE is set)');
    for (const f of files) {
      const now = f.setting === 'TLS_CERT_FILE' && tlsInForce !== undefined ? `: ${describeTls(tlsInForce)}` : '';
      if (f.error === undefined) log.info(`SIGHUP: ${f.setting} ${f.path} reloaded in every acceptor${now}`);
      else log.error(`SIGHUP: ${f.setting} ${f.path} not reloaded, the one loaded before stays in force: ${f.error}`);
    }
  });
}

function url(scheme: string, host: string, port: number): string {
  return `${scheme}://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
}

/** The admin listener; a port that is taken stops the process with a line naming ADMIN_PORT. */
function listenAdmin(admin: http.Server, config: Config, log: Log): void {
  admin.on('error', (err: NodeJS.ErrnoException) => {
    log.error(`admin: cannot listen on ${config.adminHost}:${config.adminPort}: ${err.code ?? err.message} (ADMIN_HOST, ADMIN_PORT)`);
    process.exit(1);
  });
  admin.listen(config.adminPort as number, config.adminHost, () => {
    const port = (admin.address() as net.AddressInfo).port;
    log.info(
      `admin listening on ${url(config.tls ? 'https' : 'http', config.adminHost, port)} (status page at /, /stats.json, /metrics, /healthz, /readyz)`,
    );
  });
}

main().catch((err: Error) => {
  createLog('info').fatal(`start-up failed: ${err.message}`);
  process.exit(1);
});
