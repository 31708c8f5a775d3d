/**
 * How a shard reaches one of its Redis servers: the ioredis options that
 * REDIS_URL's user, password, TLS and database give every server, and those
 * of the one writable server (standalone or through the sentinels). What the
 * settings are is in `routing/backend-settings.ts`.
 */
import type { RedisOptions as IORedisOptions } from 'ioredis';
import type { BackendSettings, HostPort } from '../../routing/backend-settings.js';

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
