/**
 * The cost of reading each key's TTL with its value (issue 20): the miss
 * path with the read script against GET/MGET alone (the test-only switch
 * SHARDCACHE_TEST_NO_EXPIRY, honoured with SHARDCACHE_TEST_HOOKS only), and
 * the hit path, whose entries then carry their key's life to the acceptor.
 * The keys hold a 1 h TTL here (`expireSeconds`), so that every answer
 * carries a life. With SHARDCACHE_BENCH_BEFORE=<an older build's
 * dist/src/main.js>, the hit path runs that build too, for "what it was
 * before".
 */
import type { Bar } from './results.js';
import { cycleTrace } from './data.js';
import type { Scenario } from './scenario.js';
import { shardcache, shardcacheBuild, type Target } from './targets.js';

const NO_EXPIRY = { SHARDCACHE_TEST_HOOKS: '1', SHARDCACHE_TEST_NO_EXPIRY: '1' };
const WITH = 'shardcache (TTL read)';
const WITHOUT = 'shardcache (no TTL read)';
const MISS_WITH = 'shardcache (no cache, TTL read)';
const MISS_WITHOUT = 'shardcache (no cache, no TTL read)';
const BEFORE = 'shardcache (build before issue 20)';

/** The two expiry scenarios: `expiry-miss` and `expiry-hit`. */
export function expiryScenarios(): Scenario[] {
  const before = process.env.SHARDCACHE_BENCH_BEFORE;
  const beforeTarget: Target[] = before ? [shardcacheBuild(before, BEFORE)] : [];
  const data = { valueBytes: 100, keys: 10000, trace: () => cycleTrace(10000), expireSeconds: 3600 };
  return [
    {
      id: 'expiry-miss',
      title: 'Miss path with and without the TTL read (keys with a 1 h TTL, CACHE_CAPACITY=0)',
      ...data,
      capacity: 0,
      targets: [shardcache(undefined, NO_EXPIRY, MISS_WITHOUT), shardcache(undefined, {}, MISS_WITH)],
      baseline: MISS_WITHOUT,
    },
    {
      id: 'expiry-hit',
      title: 'Hit path with and without the TTL read (keys with a 1 h TTL, all cached)',
      ...data,
      capacity: 100000,
      targets: [shardcache(undefined, NO_EXPIRY, WITHOUT), shardcache(undefined, {}, WITH), ...beforeTarget],
      baseline: before ? BEFORE : WITHOUT,
    },
  ];
}

/** Issue 20's bars. */
export const EXPIRY_BARS: Bar[] = [
  { label: 'miss path with the TTL read ≥ 0.9× without it', scenario: 'expiry-miss', target: MISS_WITH, against: MISS_WITHOUT, min: 0.9 },
  {
    label: 'hit path with the TTL read ≥ 0.98× before issue 20 (SHARDCACHE_BENCH_BEFORE)',
    scenario: 'expiry-hit',
    target: WITH,
    against: BEFORE,
    min: 0.98,
  },
];
