/**
 * Where the shards' Redis is, in each backing mode: the settings every shard
 * gets, the `host:port` lists of REDIS_CLUSTER_NODES and REDIS_SENTINELS, and
 * how to name them in logs. Pure; the configuration checks them at start-up,
 * and the shards turn them into connection options (`shard/redis/endpoints.ts`).
 */
import { redactUrl } from '../redact.js';

/** The values TRACKING_MODE takes (`shard/invalidation/tracking-mode.ts` says what each asks of Redis). */
export const TRACKING_MODES = ['default', 'bcast'] as const;

/** One of `TRACKING_MODES`. */
export type TrackingMode = (typeof TRACKING_MODES)[number];

/** How a shard's connections are tracked (cloned into each worker with the backend settings). */
export interface TrackingSpec {
  mode: TrackingMode;
  /** KEY_PREFIX, one char per byte; '' covers every key. Only `bcast` uses it. */
  prefix: string;
}

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

/** One line naming the backing store without secrets, e.g. `redis cluster 10.0.0.1:7000,…`. */
export function describeBackend(settings: BackendSettings): string {
  const nodes = settings.nodes.map(formatHostPort).join(',');
  const u = new URL(settings.url);
  const auth = [u.username !== '' ? 'user' : '', u.password !== '' ? 'password' : '', u.protocol === 'rediss:' ? 'TLS' : ''].filter(
    (s) => s !== '',
  );
  const from = auth.length > 0 ? ` (${auth.join(', ')} from REDIS_URL)` : '';
  if (settings.mode === 'cluster') return `redis cluster ${nodes}${from}`;
  if (settings.mode === 'sentinel') return `redis sentinel master ${settings.sentinelName} via ${nodes}${from}`;
  return `redis ${redactUrl(settings.url)}`;
}
