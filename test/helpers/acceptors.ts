/**
 * What the acceptor tests (acceptors.test.ts, acceptors-limits.test.ts)
 * share: the thread counts they start the proxy with, and how they tell
 * which acceptor took a connection.
 */
import { scrape, total } from './metrics.js';

export const THREADS = { ACCEPTORS: '3', SHARDS: '2' };

/** Per acceptor, the connections it accepted of `protocol` so far. */
export async function acceptedBy(admin: string, protocol: string): Promise<number[]> {
  const m = await scrape(admin);
  return [0, 1, 2].map((a) => total(m, 'shardcache_acceptor_connections_total', { acceptor: String(a), protocol }));
}
