/**
 * Graceful stop of one acceptor: stop accepting, let the requests in flight
 * finish (their connections close after the answer), and cut connections
 * still busy at the deadline. The shards stay up meanwhile, so every request
 * an acceptor took is answered.
 */
import type http from 'node:http';

/** Resolves with 0 when every connection of `servers` finished within `timeoutMs`, 1 when some had to be cut. */
export function drain(servers: readonly http.Server[], timeoutMs: number): Promise<number> {
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
  }, timeoutMs);
  return closed.then(() => {
    clearInterval(sweep);
    clearTimeout(deadline);
    return cut ? 1 : 0;
  });
}
