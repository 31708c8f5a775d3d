/**
 * Configuration from environment variables, each with an equivalent
 * command-line flag (the flag wins). Every value is checked at start-up; a
 * bad one stops the process with exit code 2 and a message naming the
 * setting and the value, never a stack trace.
 */
import { availableParallelism } from 'node:os';
import { EVICTIONS, type Eviction } from './cache/policy.js';
import { LOG_LEVELS } from './log.js';
import { unprotected } from './protected-mode.js';
import { redactUrl } from './redact.js';
import { parseHostPorts, TRACKING_MODES, type BackendSettings, type RedisMode, type TrackingMode } from './routing/backend-settings.js';
import { defaultThreads, reusePortProblem } from './threads.js';
import { loadTls, TlsFileError, type TlsMaterial } from './tls-context.js';
import {
  accessFile,
  byteSize,
  decimal,
  host,
  hostPorts,
  integer,
  keyPrefix,
  contentTypes,
  oneOf,
  type Parse,
  portOrOff,
  redisUrl,
  sentinelName,
} from './setting-parsers.js';

/** Every setting, checked and parsed (see SETTINGS for the environment variables and flags). */
export interface Config {
  port: number;
  host: string;
  redisUrl: string;
  /** Whether REDIS_URL was given (the start-up hint about a missing Redis depends on it). */
  redisUrlGiven: boolean;
  /** Cluster seed nodes, `host:port,…` as given (checked); '' when not in cluster mode. */
  redisClusterNodes: string;
  /** Sentinels, `host:port,…` (checked); '' when not in sentinel mode. */
  redisSentinels: string;
  /** The master group the sentinels monitor; '' when not in sentinel mode. */
  redisSentinelName: string;
  /** Which of the three settings above (or none: REDIS_URL's server) says where Redis is. */
  redisMode: RedisMode;
  cacheTtlMs: number;
  cacheCapacity: number;
  /** Bytes the cache holds in total, everything counted (docs/cache.md); 0: no limit besides cacheCapacity. */
  cacheMaxBytes: number;
  shards: number;
  /** Threads accepting HTTP (and RESP) connections on the one port; the main thread is the first. */
  acceptors: number;
  maxConnections: number;
  redisTimeoutMs: number;
  maxKeyBytes: number;
  /** RESP (Redis protocol) listener port; `'off'` when there is none. */
  respPort: number | 'off';
  /** RESP clients must AUTH with this first; '' when none is set. */
  respPassword: string;
  /** Admin listener port; `'off'` when there is none. */
  adminPort: number | 'off';
  logLevel: string;
  shutdownTimeoutMs: number;
  maxInflight: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  staleIfErrorMs: number;
  maxValueBytes: number;
  /** Only keys starting with these bytes (a binary string) are served; '' allows all. */
  keyPrefix: string;
  /** CONTENT_TYPES: `suffix=type,…` for a string's Content-Type over HTTP ('' = always application/octet-stream). */
  contentTypes: string;
  /** SHARDCACHE_TEST_HOOKS=1: the admin listener accepts test-only commands (killing a shard). Never in production. */
  testHooks: boolean;
  /** How cached values learn of changes: Redis client tracking, or only the TTL. */
  invalidation: 'tracking' | 'ttl';
  /** Which client tracking Redis runs for the shards: per key (`default`) or broadcast (`bcast`, docs/coherence.md). */
  trackingMode: TrackingMode;
  /** How long a "key absent" answer is cached; 0: never. */
  negativeTtlMs: number;
  /** The credentials file (src/access/credentials.ts); '' when every client may read every key. */
  accessFile: string;
  /** Where the admin listener binds: ADMIN_HOST, or HOST when it is not set. */
  adminHost: string;
  /** `off`: listening beyond loopback without ACCESS_FILE is allowed (with a warning). */
  protectedMode: 'on' | 'off';
  /** Which entry a full shard evicts (docs/cache.md#eviction). */
  eviction: Eviction;
  /** How long past its TTL an entry is answered at once while one fetch refreshes it; 0: off. */
  staleWhileRevalidateMs: number;
  /** XFetch's β for refreshing hot entries before they expire; 0: off. */
  earlyRefreshBeta: number;
  /** TLS on every listener: the PEM files ('' when unset), and what was read from them (undefined: plain TCP). */
  tlsCertFile: string;
  tlsKeyFile: string;
  tlsCaFile: string;
  tls: TlsMaterial | undefined;
}

/** A setting with a bad value, or a command line that cannot be read. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

interface Setting {
  env: string;
  field: Exclude<keyof Config, 'redisUrlGiven' | 'testHooks' | 'redisMode' | 'tls'>;
  default: () => number | string;
  parse: Parse;
  help: string;
}

const canReusePort = (): boolean => reusePortProblem(process.version, process.platform) === undefined;
const defaults = (): { acceptors: number; shards: number } => defaultThreads(availableParallelism(), canReusePort());

/** Every setting, in the order `--help` lists them. */
// biome-ignore format: a table, one setting a line, so that a new setting is one line of diff
export const SETTINGS: readonly Setting[] = [
  { env: 'PORT', field: 'port', default: () => 8080, parse: integer(0, 65535), help: 'HTTP port (0 picks a free one and logs it)' },
  { env: 'HOST', field: 'host', default: () => '127.0.0.1', parse: host, help: 'address to listen on; beyond loopback only with ACCESS_FILE set, or PROTECTED_MODE=off' },
  { env: 'PROTECTED_MODE', field: 'protectedMode', default: () => 'on', parse: oneOf('on', 'off'), help: 'on: HOST or ADMIN_HOST beyond loopback without ACCESS_FILE stops start-up (exit 2), as Redis refuses; off: allowed, with a warning' },
  { env: 'REDIS_URL', field: 'redisUrl', default: () => 'redis://127.0.0.1:6379', parse: redisUrl, help: 'backing Redis: redis:// or rediss://, user:password@ and /db allowed; with a cluster or sentinels, only its user, password, TLS (rediss://) and /db are used, for every server' },
  { env: 'REDIS_CLUSTER_NODES', field: 'redisClusterNodes', default: () => '', parse: hostPorts, help: 'Redis Cluster seed nodes, host:port,host:port,… (any few masters or replicas; the rest is discovered)' },
  { env: 'REDIS_SENTINELS', field: 'redisSentinels', default: () => '', parse: hostPorts, help: 'Redis Sentinels, host:port,…: read from the master they name for REDIS_SENTINEL_NAME' },
  { env: 'REDIS_SENTINEL_NAME', field: 'redisSentinelName', default: () => '', parse: sentinelName, help: 'the master group the sentinels monitor (their `sentinel monitor <name> …`); required with REDIS_SENTINELS' },
  { env: 'CACHE_TTL_MS', field: 'cacheTtlMs', default: () => 30000, parse: integer(0, 2 ** 31 - 1), help: 'how long a value is served from the cache after it was fetched (0: never from cache)' },
  { env: 'CACHE_CAPACITY', field: 'cacheCapacity', default: () => 100000, parse: integer(0, 2 ** 31 - 1), help: 'total keys cached, divided among the shards (counted in keys, not bytes)' },
  { env: 'CACHE_MAX_BYTES', field: 'cacheMaxBytes', default: () => 0, parse: byteSize(2 ** 50), help: 'bytes the cache holds in total (values, keys, metadata, index), divided among the shards, e.g. 256m (k, m, g: KiB, MiB, GiB); 0: no limit but CACHE_CAPACITY' },
  { env: 'ACCEPTORS', field: 'acceptors', default: () => defaults().acceptors, parse: integer(1, 64), help: 'threads accepting connections on PORT and RESP_PORT, the main thread included (default: cores - SHARDS by the rule in docs/architecture.md; more than 1 needs Node >= 22.12)' },
  { env: 'SHARDS', field: 'shards', default: () => defaults().shards, parse: integer(1, 256), help: 'worker-thread shards, each with its own part of the cache and its own Redis connections (default: a fifth of the cores, at least 1)' },
  { env: 'MAX_CONNECTIONS', field: 'maxConnections', default: () => 10000, parse: integer(1, 2 ** 31 - 1), help: 'client connections per listener (HTTP, RESP) for the whole process, all acceptors together; beyond it new ones are closed' },
  { env: 'REDIS_TIMEOUT_MS', field: 'redisTimeoutMs', default: () => 1000, parse: integer(1, 600000), help: 'a Redis GET slower than this answers 503' },
  { env: 'RESP_PORT', field: 'respPort', default: () => 'off', parse: portOrOff, help: 'RESP (Redis protocol) port on HOST, for Redis clients; off unless set (0 picks a free one and logs it)' },
  { env: 'RESP_PASSWORD', field: 'respPassword', default: () => '', parse: (raw) => raw, help: "like Redis's requirepass: RESP clients must AUTH with it first (surrounding spaces are dropped; prefer the variable to the flag, which ps shows)" },
  { env: 'ACCESS_FILE', field: 'accessFile', default: () => '', parse: accessFile, help: 'JSON credentials (docs/security.md): HTTP clients send Authorization: Bearer <token>, RESP clients AUTH <name> <token>; each reads only its key prefixes; SIGHUP reloads it' },
  { env: 'MAX_KEY_BYTES', field: 'maxKeyBytes', default: () => 1024, parse: integer(1, 65536), help: 'longest key accepted, after percent-decoding; longer keys get 400' },
  { env: 'ADMIN_HOST', field: 'adminHost', default: () => '', parse: host, help: 'address of the admin listener (default: HOST), e.g. 127.0.0.1 while the data port listens on every address' },
  { env: 'ADMIN_PORT', field: 'adminPort', default: () => 9464, parse: portOrOff, help: 'admin port (status page /, /stats.json, /metrics, /healthz, /readyz) on HOST; 0 picks a free one and logs it; off starts none' },
  { env: 'LOG_LEVEL', field: 'logLevel', default: () => 'info', parse: oneOf(...LOG_LEVELS), help: `least severe log level written: ${LOG_LEVELS.join(', ')}` },
  { env: 'TLS_CERT_FILE', field: 'tlsCertFile', default: () => '', parse: (raw) => raw, help: 'PEM certificate (chain): with TLS_KEY_FILE, PORT speaks HTTPS, RESP_PORT TLS and ADMIN_PORT HTTPS; SIGHUP rereads it' },
  { env: 'TLS_KEY_FILE', field: 'tlsKeyFile', default: () => '', parse: (raw) => raw, help: "PEM private key of TLS_CERT_FILE's certificate, unencrypted; SIGHUP rereads it" },
  { env: 'TLS_CA_FILE', field: 'tlsCaFile', default: () => '', parse: (raw) => raw, help: 'PEM CA certificates: every listener then requires a client certificate signed by one of them (mutual TLS); SIGHUP rereads it' },
  { env: 'SHUTDOWN_TIMEOUT_MS', field: 'shutdownTimeoutMs', default: () => 10000, parse: integer(1, 600000), help: 'on SIGTERM/SIGINT, how long in-flight requests may take before connections are cut' },
  { env: 'MAX_INFLIGHT', field: 'maxInflight', default: () => 1000, parse: integer(1, 1000000), help: 'requests waiting on Redis per shard (misses, and those joined to their fetches), all acceptors together; beyond it a miss is answered 503 at once (hits never)' },
  { env: 'HEADERS_TIMEOUT_MS', field: 'headersTimeoutMs', default: () => 10000, parse: integer(100, 600000), help: 'a client must send its request headers within this (slow clients get 408)' },
  { env: 'REQUEST_TIMEOUT_MS', field: 'requestTimeoutMs', default: () => 30000, parse: integer(100, 3600000), help: 'a client must send its whole request within this; at least HEADERS_TIMEOUT_MS' },
  { env: 'STALE_IF_ERROR_MS', field: 'staleIfErrorMs', default: () => 0, parse: integer(0, 2 ** 31 - 1), help: 'while Redis fails, serve an entry up to this long past its TTL (0: off)' },
  { env: 'MAX_VALUE_BYTES', field: 'maxValueBytes', default: () => 1048576, parse: byteSize(536870912), help: 'larger values are served but not cached (k, m, g suffixes allowed)' },
  { env: 'KEY_PREFIX', field: 'keyPrefix', default: () => '', parse: keyPrefix, help: 'percent-encoded; only keys starting with it are served, others get 403 (default: all keys)' },
  { env: 'INVALIDATION', field: 'invalidation', default: () => 'tracking', parse: oneOf('tracking', 'ttl'), help: 'tracking: Redis reports changed keys (falls back to ttl if refused); ttl: values may be stale until CACHE_TTL_MS' },
  { env: 'TRACKING_MODE', field: 'trackingMode', default: () => 'default', parse: oneOf(...TRACKING_MODES), help: 'default: Redis tracks each key the proxy read (its tracking-table-max-keys caps what stays cached); bcast: every write under KEY_PREFIX (or to any key) is sent to every proxy, no per-key table' },
  { env: 'EVICTION', field: 'eviction', default: () => 'lru', parse: oneOf(...EVICTIONS), help: 'which entry a full shard evicts: lru, the least recently read; tinylfu, W-TinyLFU (keeps frequently read keys through scans; a sketch of 3 bytes per CACHE_CAPACITY slot)' },
  { env: 'STALE_WHILE_REVALIDATE_MS', field: 'staleWhileRevalidateMs', default: () => 0, parse: integer(0, 2 ** 31 - 1), help: 'an entry up to this long past CACHE_TTL_MS is answered at once (stale) while one fetch refreshes it (0: off)' },
  { env: 'EARLY_REFRESH_BETA', field: 'earlyRefreshBeta', default: () => 1, parse: decimal(0, 100), help: "XFetch's beta: a hit refreshes its entry early with a probability that rises as expiry nears, scaled by Redis's round trip; larger is earlier (0: off)" },
  { env: 'CONTENT_TYPES', field: 'contentTypes', default: () => '', parse: contentTypes, help: 'Content-Type of a string over HTTP by key suffix, e.g. .json=application/json,.html=text/html; charset=utf-8 (longest suffix wins; default application/octet-stream)' },
  { env: 'NEGATIVE_TTL_MS', field: 'negativeTtlMs', default: () => 0, parse: integer(0, 2 ** 31 - 1), help: 'how long a "key absent" answer is cached (0: never); with INVALIDATION=ttl a new key stays 404 that long' },
];

/** The `--flag` spelling of an environment variable: `CACHE_TTL_MS` → `--cache-ttl-ms`. */
export function flagOf(env: string): string {
  return `--${env.toLowerCase().replace(/_/g, '-')}`;
}

/**
 * Reads the configuration from `env` and `argv` (the arguments after the
 * script). Returns `'help'` when `--help` was asked for. Throws
 * `ConfigError` on a bad value or an unknown flag.
 */
export function loadConfig(env: NodeJS.ProcessEnv, argv: readonly string[]): Config | 'help' {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return 'help';
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const setting = SETTINGS.find((s) => flagOf(s.env) === name);
    // The name only: after a misspelt --resp-password= comes a secret.
    if (setting === undefined) throw new ConfigError(`unknown argument ${JSON.stringify(name)} (see --help)`);
    const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) throw new ConfigError(`${name} needs a value`);
    flags.set(setting.env, value);
  }
  const config: Record<string, number | string | boolean> = {
    redisUrlGiven: flags.has('REDIS_URL') || env.REDIS_URL !== undefined,
    testHooks: env.SHARDCACHE_TEST_HOOKS === '1',
  };
  for (const s of SETTINGS) {
    const fromFlag = flags.get(s.env);
    const raw = fromFlag ?? env[s.env];
    if (raw === undefined || (fromFlag === undefined && raw === '')) {
      config[s.field] = s.default();
      continue;
    }
    try {
      config[s.field] = s.parse(raw.trim());
    } catch (err) {
      const source = fromFlag === undefined ? s.env : flagOf(s.env);
      const shown = s.env === 'REDIS_URL' ? redactUrl(raw) : raw;
      throw new ConfigError(`${source}=${JSON.stringify(shown)}: ${(err as Error).message}`);
    }
  }
  const checked = config as unknown as Config;
  const noReusePort = checked.acceptors > 1 ? reusePortProblem(process.version, process.platform) : undefined;
  if (noReusePort !== undefined) {
    const source = flags.has('ACCEPTORS') ? flagOf('ACCEPTORS') : 'ACCEPTORS';
    throw new ConfigError(`${source}=${checked.acceptors}: several acceptors ${noReusePort}; set ACCEPTORS=1`);
  }
  if (checked.headersTimeoutMs > checked.requestTimeoutMs) {
    throw new ConfigError(
      `HEADERS_TIMEOUT_MS=${checked.headersTimeoutMs}: must not exceed REQUEST_TIMEOUT_MS (${checked.requestTimeoutMs})`,
    );
  }
  if (checked.trackingMode === 'bcast' && checked.invalidation === 'ttl')
    throw new ConfigError('TRACKING_MODE=bcast: needs INVALIDATION=tracking (INVALIDATION=ttl tracks nothing)');
  checked.redisMode = redisMode(checked);
  checked.tls = tlsOf(checked);
  if (checked.adminHost === '') checked.adminHost = checked.host;
  const open = unprotected(checked);
  if (open.length > 0 && checked.protectedMode === 'on')
    throw new ConfigError(
      `${open.join(' and ')}: listening beyond loopback needs ACCESS_FILE (credentials, docs/security.md), or PROTECTED_MODE=off to serve every client that reaches it`,
    );
  return checked;
}

/** Reads the TLS files when they are set; a missing half or a bad file is a ConfigError naming the setting. */
function tlsOf(c: Config): TlsMaterial | undefined {
  if (c.tlsCertFile === '' && c.tlsKeyFile === '') {
    if (c.tlsCaFile !== '') throw new ConfigError('TLS_CA_FILE: client certificates need TLS; set TLS_CERT_FILE and TLS_KEY_FILE too');
    return undefined;
  }
  if (c.tlsKeyFile === '') throw new ConfigError('TLS_CERT_FILE is set but TLS_KEY_FILE is not: TLS needs both');
  if (c.tlsCertFile === '') throw new ConfigError('TLS_KEY_FILE is set but TLS_CERT_FILE is not: TLS needs both');
  try {
    return loadTls(c);
  } catch (err) {
    if (err instanceof TlsFileError) throw new ConfigError(err.message);
    throw err;
  }
}

/** The backing mode the Redis settings select, or a ConfigError naming the settings that disagree. */
function redisMode(c: Config): RedisMode {
  if (c.redisClusterNodes !== '' && c.redisSentinels !== '') {
    throw new ConfigError(
      'REDIS_CLUSTER_NODES and REDIS_SENTINELS are both set: a proxy reads from a cluster or from a sentinel-managed master, not both; unset one',
    );
  }
  if (c.redisSentinels !== '' && c.redisSentinelName === '') {
    throw new ConfigError('REDIS_SENTINELS is set but REDIS_SENTINEL_NAME is not: name the master group the sentinels monitor');
  }
  if (c.redisSentinelName !== '' && c.redisSentinels === '') {
    throw new ConfigError(
      `REDIS_SENTINEL_NAME=${JSON.stringify(c.redisSentinelName)} is set but REDIS_SENTINELS is not: list the sentinels as host:port,…`,
    );
  }
  if (c.redisClusterNodes !== '') {
    const db = new URL(c.redisUrl).pathname.replace(/^\//, '');
    if (db !== '' && db !== '0')
      throw new ConfigError(`REDIS_URL selects database ${db}, but Redis Cluster has only database 0 (REDIS_CLUSTER_NODES is set)`);
    return 'cluster';
  }
  return c.redisSentinels !== '' ? 'sentinel' : 'standalone';
}

/** What the shard workers need to reach Redis in the configured mode. */
export function backendSettings(c: Config): BackendSettings {
  const list = c.redisMode === 'cluster' ? c.redisClusterNodes : c.redisMode === 'sentinel' ? c.redisSentinels : '';
  return {
    mode: c.redisMode,
    url: c.redisUrl,
    nodes: list === '' ? [] : parseHostPorts(list),
    sentinelName: c.redisSentinelName,
    timeoutMs: c.redisTimeoutMs,
    tracking: { mode: c.trackingMode, prefix: c.keyPrefix },
  };
}

/** The `--help` text: every setting with its flag and default. */
export function helpText(): string {
  const rows = SETTINGS.map((s) => `  ${s.env.padEnd(19)} ${flagOf(s.env).padEnd(21)} default ${String(s.default()).padEnd(23)} ${s.help}`);
  return [
    'shardcache: a caching HTTP proxy for Redis. GET /<percent-encoded key> answers the value of that key.',
    'With RESP_PORT set, Redis clients can also send it GET and MGET in the Redis protocol (RESP2).',
    '',
    'Settings (environment variable, or the flag, which wins):',
    ...rows,
    '',
    'Exit codes: 0 after a clean stop, 1 on a failure at start-up or a stop that had to cut connections, 2 on a bad setting.',
  ].join('\n');
}
