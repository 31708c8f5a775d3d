/**
 * A test hook, off unless `SHARDCACHE_TEST_DELAY_GET=<key prefix>:<ms>` is
 * set: holds the replies to GETs of keys with that prefix for `ms` after
 * Redis sent them. System tests use it to make an invalidation overtake the
 * GET reply it invalidates, a race that is otherwise a matter of luck.
 */
import type { Fetch } from './shard.js';

/** `fetch` itself when `spec` is unset, so the hook costs nothing unless a test asks for it. */
export function delayedForTests(fetch: Fetch, spec: string | undefined): Fetch {
  if (spec === undefined || spec === '') return fetch;
  const colon = spec.lastIndexOf(':');
  const prefix = Buffer.from(spec.slice(0, colon), 'latin1');
  const ms = Number(spec.slice(colon + 1));
  if (colon < 0 || !(ms >= 0)) throw new Error(`SHARDCACHE_TEST_DELAY_GET must be <key prefix>:<ms>, not ${JSON.stringify(spec)}`);
  return (key) => {
    const reply = fetch(key);
    if (key.length < prefix.length || prefix.compare(key, 0, prefix.length) !== 0) return reply;
    return reply.then((result) => new Promise((resolve) => setTimeout(resolve, ms, result)));
  };
}
