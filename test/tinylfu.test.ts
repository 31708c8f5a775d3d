/**
 * EVICTION=tinylfu in the store: the window and segments, the admission
 * duel, scan resistance, and a property test against the reference model
 * (benchmarks/lib/policies.ts) for both policies.
 */
import t from 'tap';
import { MISS, Store } from '../src/cache/store.js';
import { PROBATION, PROTECTED, WINDOW } from '../src/cache/tinylfu.js';
import { segmentOf } from '../src/cache/policy.js';
import { modelOf } from '../benchmarks/lib/policies.js';
import { seededRandom } from './helpers/random.js';

const V = Buffer.from('v');
/** A client read: a lookup, and on a miss the fetch lands and is set. */
function read(c: Store, key: string): boolean {
  if (c.getKey(key, 0) !== MISS) return true;
  c.set(key, V, 0);
  return false;
}
const segment = (c: Store, key: string): number => segmentOf(c.entries.words, c.findKey(key));

t.test('a new entry enters the window; the window pushes out to probation; a hit there promotes to protected', async (t) => {
  const c = new Store({ capacity: 200, ttl: 1e9, eviction: 'tinylfu' });
  read(c, 'a');
  t.equal(segment(c, 'a'), WINDOW, 'the window (2 entries: 1% of 200)');
  read(c, 'b');
  read(c, 'c');
  t.equal(segment(c, 'a'), PROBATION, 'a was pushed out of the window');
  t.equal(segment(c, 'c'), WINDOW);
  read(c, 'a');
  t.equal(segment(c, 'a'), PROTECTED, 'a hit in probation promotes');
  read(c, 'a');
  t.equal(segment(c, 'a'), PROTECTED, 'and it stays');
});

t.test('protected holds 80% of the main space and pushes its least recent back to probation', async (t) => {
  // Capacity 11: window 1, main 10, protected 8.
  const c = new Store({ capacity: 11, ttl: 1e9, eviction: 'tinylfu' });
  const keys = Array.from({ length: 10 }, (_, i) => `p${i}`);
  for (const k of keys) read(c, k);
  read(c, 'last');
  for (const k of keys) read(c, k);
  const segments = keys.map((k) => segment(c, k));
  t.equal(segments.filter((s) => s === PROTECTED).length, 8, 'eight protected');
  t.same(
    keys.slice(0, 2).map((k) => segment(c, k)),
    [PROBATION, PROBATION],
    'the two read first went back to probation',
  );
});

t.test('the admission duel: a newcomer read once loses to a frequent entry, a frequent newcomer wins', async (t) => {
  const c = new Store({ capacity: 100, ttl: 1e9, eviction: 'tinylfu' });
  // 100 keys read five times each fill the cache.
  for (let round = 0; round < 5; round++) for (let i = 0; i < 100; i++) read(c, `hot${i}`);
  t.equal(c.size, 100);
  const hot = new Set(c.keys());
  // A key read once: it passes the window, then loses its duel.
  for (let i = 0; i < 30; i++) read(c, `once${i}`);
  const kept = c.keys().filter((k) => hot.has(k)).length;
  t.ok(kept >= 97, `a run of 30 one-off reads left ${kept} of the 100 frequent keys (the window holds one)`);
  t.same(
    c.keys().filter((k) => k.startsWith('once')),
    ['once29', 'once28'],
    'the one-off keys were turned away: only the last one (in the window) and the one before (in probation, its duel comes with the next insert) are there',
  );
  // A newcomer read more often than the probation victim gets in.
  for (let n = 0; n < 8; n++) read(c, 'rising');
  t.not(c.findKey('rising'), MISS, 'read eight times, it was admitted');
});

t.test('a scan does not flush the frequent keys (where LRU loses them all)', async (t) => {
  const lfu = new Store({ capacity: 1000, ttl: 1e9, eviction: 'tinylfu' });
  const lru = new Store({ capacity: 1000, ttl: 1e9 });
  const hotHits = { lfu: 0, lru: 0 };
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 500; i++) {
      // Counted from the third round: before it, a hot key was read as often as a scanned one.
      if (read(lfu, `hot${i}`) && round >= 2) hotHits.lfu++;
      if (read(lru, `hot${i}`) && round >= 2) hotHits.lru++;
    }
    // A one-off scan of 2,000 cold keys between rounds.
    for (let i = 0; i < 2000; i++) {
      read(lfu, `scan${round}:${i}`);
      read(lru, `scan${round}:${i}`);
    }
  }
  t.equal(hotHits.lru, 0, 'LRU: every scan evicted the hot keys');
  t.ok(hotHits.lfu >= 0.9 * 18 * 500, `TinyLFU: ${hotHits.lfu} hot hits of ${18 * 500} from the third round on (at least 90%)`);
});

t.test('the store behaves as the reference models of both policies: hits, evictions and order', async (t) => {
  const failures: string[] = [];
  for (const policy of ['lru', 'tinylfu'] as const) {
    for (let seed = 1; seed <= 30; seed++) {
      const capacity = [1, 2, 7, 50, 300][seed % 5]!;
      const c = new Store({ capacity, ttl: 1e9, eviction: policy });
      const model = modelOf(policy, capacity);
      const random = seededRandom(seed);
      for (let step = 0; step < 4000; step++) {
        // Skewed keys (a few hot, many cold), now and then a delete.
        const key = `k${Math.floor(random() ** 3 * capacity * 4)}`;
        if (random() < 1 / 17) {
          c.delete(key);
          model.delete(key);
          continue;
        }
        if (read(c, key) !== model.read(key)) {
          failures.push(`${policy} seed ${seed} step ${step}: ${key} hit differs`);
          break;
        }
        if (step % 200 === 0 && c.keys().join() !== model.keys().join()) {
          failures.push(`${policy} seed ${seed} step ${step}: order differs`);
          break;
        }
      }
      if (c.evicted !== model.evicted) failures.push(`${policy} seed ${seed}: evicted ${c.evicted}, model ${model.evicted}`);
    }
  }
  t.same(failures, [], '2 policies × 30 random sequences of 4,000 reads and deletes');
});
