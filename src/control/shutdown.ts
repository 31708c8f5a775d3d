/**
 * Graceful stop: stop accepting, let the requests in flight finish (their
 * connections close after the answer), then close the shards and their
 * Redis connections. Connections still busy at the deadline are cut.
 */
import type http from 'node:http';

/** What `drain` stops and how long it may take. */
export interface DrainOptions {
  /** The client-facing listeners. */
  servers: http.Server[];
  /** Closes the shards and Redis, once no connection is left. */
  close: () => Promise<void>;
  timeoutMs: number;
}

/** Resolves with the exit code: 0 when everything finished in time, 1 when connections had to be cut. */
export function drain(options: DrainOptions): Promise<number> {
  const { servers } = options;
  let cut = false;
  const closed = Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  // A keep-alive connection becomes idle once its answer is written; close
  // it then rather than waiting for the client or keepAliveTimeout.
  const sweep = setInterval(() => {
    for (const s of servers) s.closeIdleConnections();
  }, 25);
  const deadline = setTimeout(() => {
    cut = true;
    for (const s of servers) s.closeAllConnections();
  }, options.timeoutMs);
  return closed.then(async () => {
    clearInterval(sweep);
    clearTimeout(deadline);
    await options.close();
    return cut ? 1 : 0;
  });
}
