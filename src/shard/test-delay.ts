/**
 * A test hook, off unless `SHARDCACHE_TEST_DELAY_GET=<key prefix>:<ms>` is
 * set: holds the replies to reads of keys with that prefix for `ms` after
 * Redis sent them: a GET of such a key, and an MGET or script holding at least one
 * (the whole reply is held, its other keys with it). System tests use it to
 * make an invalidation overtake the reply it invalidates, a race that is
 * otherwise a matter of luck.
 */
import type { Fetch, FetchMany, FetchWithLife } from './batch-fetch.js';

/** A shard's ways of reading Redis (a cluster has no multi-key one; the one with TTLs is off for a comparison). */
export interface Fetchers {
  fetch: Fetch;
  fetchMany?: FetchMany | undefined;
  fetchWithLife?: FetchWithLife | undefined;
}

/** `fetchers` themselves when `spec` is unset, so the hook costs nothing unless a test asks for it. */
export function delayedForTests(fetchers: Fetchers, spec: string | undefined): Fetchers {
  if (spec === undefined || spec === '') return fetchers;
  const colon = spec.lastIndexOf(':');
  const prefix = Buffer.from(spec.slice(0, colon), 'latin1');
  const ms = Number(spec.slice(colon + 1));
  if (colon < 0 || !(ms >= 0)) throw new Error(`SHARDCACHE_TEST_DELAY_GET must be <key prefix>:<ms>, not ${JSON.stringify(spec)}`);
  const matches = (key: Buffer): boolean => key.length >= prefix.length && prefix.compare(key, 0, prefix.length) === 0;
  const fetchMany = fetchers.fetchMany;
  const fetchWithLife = fetchers.fetchWithLife;
  const held = <T>(reply: Promise<T>): Promise<T> => reply.then((result) => new Promise((resolve) => setTimeout(resolve, ms, result)));
  return {
    fetch: (key) => (matches(key) ? held(fetchers.fetch(key)) : fetchers.fetch(key)),
    fetchMany: fetchMany && ((keys) => (keys.some(matches) ? held(fetchMany(keys)) : fetchMany(keys))),
    fetchWithLife: fetchWithLife && ((keys) => (keys.some(matches) ? held(fetchWithLife(keys)) : fetchWithLife(keys))),
  };
}
