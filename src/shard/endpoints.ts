/**
 * Where the shards' Redis is, in each backing mode, and how to reach one of
 * its servers: `host:port` lists (REDIS_CLUSTER_NODES, REDIS_SENTINELS) and
 * the user, password, TLS and database that REDIS_URL gives every server.
 * Pure functions, shared by the configuration (checks at start-up) and the
 * shard workers (connection options).
 */
import type { RedisOptions as IORedisOptions } from 'ioredis';
import type { TrackingSpec } from './tracking-mode.js';

/** How the shards reach Redis. */
export type RedisMode = 'standalone' | 'cluster' | 'sentinel';

/** One server address. */
export interface HostPort {
  host: string;
  port: number;
}

/** Everything a shard needs to open its Redis connections, whatever the mode (cloned into each worker). */
export interface BackendSettings {
  mode: RedisMode;
  /** REDIS_URL: the server in standalone mode; in the others, only its user, password, scheme (TLS) and database. */
  url: string;
  /** Cluster seed nodes (cluster mode), or the sentinels (sentinel mode); empty in standalone mode. */
  nodes: HostPort[];
  /** The master group the sentinels monitor (sentinel mode); '' otherwise. */
  sentinelName: string;
  /** REDIS_TIMEOUT_MS. */
  timeoutMs: number;
  /** TRACKING_MODE and the prefix it covers; default: per-key tracking. */
  tracking?: TrackingSpec;
}

/**
 * Parses `host:port,host:port,…` (IPv6 as `[::1]:7000`); throws an Error
 * saying what is wrong with the first bad entry.
 */
export function parseHostPorts(raw: string): HostPort[] {
  const entries = raw.split(',').map((e) => e.trim());
  if (entries.some((e) => e === '')) throw new Error('must be host:port entries separated by commas, with none empty');
  return entries.map((entry) => {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:/[\]@]+)):(\d+)$/.exec(entry);
    if (m === null) throw new Error(`"${entry}" is not host:port (write IPv6 as [::1]:7000)`);
    const port = Number(m[3]);
    if (port < 1 || port > 65535) throw new Error(`"${entry}": the port must be from 1 to 65535`);
    return { host: m[1] ?? m[2]!, port };
  });
}

/** `host:port` (IPv6 in brackets), for logs and messages. */
export function formatHostPort(node: HostPort): string {
  return node.host.includes(':') ? `[${node.host}]:${node.port}` : `${node.host}:${node.port}`;
}

/**
 * The ioredis options every server is reached with: user and password,
 * `tls` for rediss://, and the database (standalone and sentinel; a cluster
 * has only database 0). The URL's host and port are not among them.
 */
export function credentialsOf(url: string): IORedisOptions {
  const u = new URL(url);
  const options: IORedisOptions = {};
  if (u.username !== '') options.username = decodeURIComponent(u.username);
  if (u.password !== '') options.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:') options.tls = {};
  const db = u.pathname.replace(/^\//, '');
  if (db !== '') options.db = Number(db);
  return options;
}

/** The server REDIS_URL names. */
export function hostPortOf(url: string): HostPort {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 6379) };
}

/**
 * The ioredis options of a connection to the backing store's one writable
 * server: REDIS_URL's server (standalone), or the master the sentinels name
 * (sentinel: ioredis asks them, follows failovers, and with
 * `failoverDetector` drops the connection the moment they switch masters,
 * instead of reading from a demoted master until it is reconfigured). The
 * sentinels get REDIS_URL's user, password and TLS too.
 * Cluster mode has no single server: see `cluster.ts`.
 */
export function serverOptions(settings: BackendSettings): IORedisOptions {
  const credentials = credentialsOf(settings.url);
  if (settings.mode === 'sentinel') {
    return {
      ...credentials,
      sentinels: settings.nodes.map((n) => ({ host: n.host, port: n.port })),
      name: settings.sentinelName,
      failoverDetector: true,
      // The sentinels are reached as the servers are: same user, password and TLS.
      ...(credentials.username !== undefined ? { sentinelUsername: credentials.username } : {}),
      ...(credentials.password !== undefined ? { sentinelPassword: credentials.password } : {}),
      ...(credentials.tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
      sentinelCommandTimeout: settings.timeoutMs,
    };
  }
  return { ...credentials, ...hostPortOf(settings.url) };
}

/** One line naming the backing store without secrets, e.g. `redis cluster 10.0.0.1:7000,…`. */
export function describeBackend(settings: BackendSettings): string {
  const nodes = settings.nodes.map(formatHostPort).join(',');
  const u = new URL(settings.url);
  const auth = [u.username !== '' ? 'user' : '', u.password !== '' ? 'password' : '', u.protocol === 'rediss:' ? 'TLS' : ''].filter((s) => s !== '');
  const from = auth.length > 0 ? ` (${auth.join(', ')} from REDIS_URL)` : '';
  if (settings.mode === 'cluster') return `redis cluster ${nodes}${from}`;
  if (settings.mode === 'sentinel') return `redis sentinel master ${settings.sentinelName} via ${nodes}${from}`;
  if (u.password) u.password = '***';
  return `redis ${u.toString()}`;
}
