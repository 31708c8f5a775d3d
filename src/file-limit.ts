/**
 * The open-file limit against MAX_CONNECTIONS, checked once at start, as
 * nginx warns when `worker_connections` exceed the open-file limit: every
 * client connection takes a file descriptor, and past the limit the kernel
 * refuses to accept (EMFILE), so clients time out instead of being closed
 * with a count in `shardcache_refused_connections_total`.
 */
import { readFileSync } from 'node:fs';

/** Descriptors the process holds besides client connections: Redis links, listeners, stdio, the log, with room. */
export const OTHER_FILES = 256;

/** This process's soft open-file limit (Node raises it to the hard one at start); undefined where /proc does not say. */
export function openFileLimit(limits = '/proc/self/limits'): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(limits, 'utf8'));
    if (m === null) return undefined;
    return m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** The warning to log when `limit` cannot hold MAX_CONNECTIONS on every listener; undefined when it can (or is unknown). */
export function fileLimitWarning(limit: number | undefined, maxConnections: number, listeners: number): string | undefined {
  const needed = maxConnections * listeners + OTHER_FILES;
  if (limit === undefined || limit >= needed) return undefined;
  return (
    `open-file limit ${limit} is below the ${needed} that MAX_CONNECTIONS=${maxConnections} on ${listeners} listener${listeners === 1 ? '' : 's'} needs: ` +
    'connections past it are not accepted (EMFILE); raise the hard limit (ulimit -Hn, LimitNOFILE, docker --ulimit nofile) or lower MAX_CONNECTIONS'
  );
}
