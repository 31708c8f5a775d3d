/**
 * Belady's optimal policy (benchmarks/lib/belady.ts), the ceiling the
 * benchmark puts beside measured hit ratios: checked against an exhaustive
 * search over every eviction choice on small traces, and never below LRU.
 */
import t from 'tap';
import { optimalHits } from '../benchmarks/lib/belady.js';
import { LruModel } from '../benchmarks/lib/policies.js';
import { seededRandom } from './helpers/random.js';

/** The most hits any policy (any choice of what to cache and evict) gets on `keys`. */
function bestByBruteForce(keys: readonly number[], capacity: number, from = 0, cache: readonly number[] = []): number {
  if (from === keys.length) return 0;
  const key = keys[from]!;
  if (cache.includes(key)) return 1 + bestByBruteForce(keys, capacity, from + 1, cache);
  let best = bestByBruteForce(keys, capacity, from + 1, cache); // not cached
  if (cache.length < capacity) best = Math.max(best, bestByBruteForce(keys, capacity, from + 1, [...cache, key]));
  else
    for (let i = 0; i < cache.length; i++)
      best = Math.max(
        best,
        bestByBruteForce(
          keys,
          capacity,
          from + 1,
          cache.map((k, j) => (j === i ? key : k)),
        ),
      );
  return best;
}

const sum = (a: Uint8Array): number => a.reduce((x, y) => x + y, 0);

t.test('the textbook trace: 1 2 3 4 1 2 5 1 2 3 4 5 with room for 3', async (t) => {
  const keys = Uint32Array.from([1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]);
  // 7 misses with 3 frames, as in every operating-systems text.
  t.equal(keys.length - sum(optimalHits(keys, 3)), 7);
  t.equal(sum(optimalHits(keys, 3)), bestByBruteForce([...keys], 3));
});

t.test('equals an exhaustive search on 300 random small traces, and never falls below LRU', async (t) => {
  const rnd = seededRandom(7);
  const random = (n: number): number => Math.floor(rnd() * n);
  let checked = 0;
  for (let trial = 0; trial < 300; trial++) {
    const capacity = 1 + random(3);
    const keys = Array.from({ length: 6 + random(5) }, () => random(5));
    const hits = sum(optimalHits(Uint32Array.from(keys), capacity));
    const best = bestByBruteForce(keys, capacity);
    const lru = new LruModel(capacity);
    const lruHits = keys.filter((k) => lru.read(String(k))).length;
    if (hits !== best || hits < lruHits)
      t.fail(`trace ${keys.join(' ')}, capacity ${capacity}: ${hits} hits, best ${best}, LRU ${lruHits}`);
    else checked++;
  }
  t.equal(checked, 300, 'every trace matched');
});

t.test('a capacity of 0 hits nothing', async (t) => {
  t.equal(sum(optimalHits(Uint32Array.from([1, 1, 1]), 0)), 0);
});
