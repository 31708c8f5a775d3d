import t from 'tap';
import { LRU } from '../src/cache/lru.js';

t.test('evicts the least recently used entry', async (t) => {
  const c = new LRU<string>({ capacity: 3, ttl: 1000 });
  c.set('a', 'A', 0);
  c.set('b', 'B', 0);
  c.set('c', 'C', 0);
  c.set('d', 'D', 0);
  t.equal(c.get('a', 0), undefined, 'oldest insert evicted');
  t.same(c.keys(), ['d', 'c', 'b']);
  t.equal(c.evicted, 1);
  t.equal(c.size, 3);
});

t.test('a read refreshes recency', async (t) => {
  const c = new LRU<string>({ capacity: 3, ttl: 1000 });
  c.set('a', 'A', 0);
  c.set('b', 'B', 0);
  c.set('c', 'C', 0);
  t.equal(c.get('a', 1), 'A');
  c.set('d', 'D', 1);
  t.equal(c.get('b', 1), undefined, 'b was least recently read');
  t.equal(c.get('a', 1), 'A');
  t.same(c.keys(), ['a', 'd', 'c']);
});

t.test('replacing a key keeps one entry and refreshes it', async (t) => {
  const c = new LRU<string>({ capacity: 2, ttl: 1000 });
  c.set('a', 'A', 0);
  c.set('b', 'B', 0);
  c.set('a', 'A2', 0);
  c.set('c', 'C', 0);
  t.equal(c.size, 2);
  t.equal(c.get('a', 0), 'A2');
  t.equal(c.get('b', 0), undefined);
});

t.test('capacity 1', async (t) => {
  const c = new LRU<number>({ capacity: 1, ttl: 1000 });
  c.set('a', 1, 0);
  t.equal(c.get('a', 0), 1);
  c.set('b', 2, 0);
  t.equal(c.get('a', 0), undefined);
  t.equal(c.get('b', 0), 2);
  t.equal(c.size, 1);
});

t.test('capacity 0 caches nothing', async (t) => {
  const c = new LRU<number>({ capacity: 0, ttl: 1000 });
  c.set('a', 1, 0);
  t.equal(c.get('a', 0), undefined);
  t.equal(c.size, 0);
});

t.test('expiry is lazy and counted from insertion', async (t) => {
  const c = new LRU<string>({ capacity: 2, ttl: 100 });
  c.set('a', 'A', 1000);
  t.equal(c.get('a', 1099), 'A', 'alive just before the ttl');
  t.equal(c.size, 1);
  t.equal(c.get('a', 1100), undefined, 'expired at the ttl, reads do not extend it');
  t.equal(c.size, 0, 'removed when found expired');
  t.equal(c.expired, 1);
});

t.test('an expired entry holds its slot until read or evicted', async (t) => {
  const c = new LRU<string>({ capacity: 2, ttl: 100 });
  c.set('a', 'A', 0);
  c.set('b', 'B', 150);
  t.equal(c.size, 2, 'nothing sweeps in the background');
  c.set('c', 'C', 150);
  t.same(c.keys(), ['c', 'b'], 'the expired, least recent entry is the one evicted');
});

t.test('re-insert after expiry', async (t) => {
  const c = new LRU<string>({ capacity: 2, ttl: 100 });
  c.set('a', 'old', 0);
  t.equal(c.get('a', 200), undefined);
  c.set('a', 'new', 200);
  t.equal(c.get('a', 250), 'new');
  t.equal(c.get('a', 300), undefined, 'the new entry has its own ttl');
});

t.test('delete and clear', async (t) => {
  const c = new LRU<string>({ capacity: 3, ttl: 100 });
  c.set('a', 'A', 0);
  c.set('b', 'B', 0);
  t.equal(c.delete('a'), true);
  t.equal(c.delete('a'), false);
  t.same(c.keys(), ['b']);
  c.set('x', 'X', 0);
  c.set('y', 'Y', 0);
  t.equal(c.evicted, 0, 'a deleted slot is reused before anything is evicted');
  c.clear();
  t.equal(c.size, 0);
  t.same(c.keys(), []);
  for (const k of ['p', 'q', 'r']) c.set(k, k, 0);
  t.same(c.keys(), ['r', 'q', 'p'], 'usable at full capacity after clear');
});

t.test('holds exactly capacity entries under churn', async (t) => {
  const c = new LRU<number>({ capacity: 100, ttl: 1e9 });
  for (let i = 0; i < 10000; i++) c.set(`k${i}`, i, 0);
  t.equal(c.size, 100);
  t.equal(c.evicted, 9900);
  t.same(c.keys().slice(0, 2), ['k9999', 'k9998']);
  t.equal(c.get('k9900', 0), 9900);
  t.equal(c.get('k9899', 0), undefined);
});

t.test('rejects a bad capacity or ttl', async (t) => {
  t.throws(() => new LRU({ capacity: -1, ttl: 1 }), RangeError);
  t.throws(() => new LRU({ capacity: 1.5, ttl: 1 }), RangeError);
  t.throws(() => new LRU({ capacity: 1, ttl: Number.NaN }), RangeError);
});

t.test('grace: an expired entry is kept for stale() until ttl + grace, then removed', async (t) => {
  const c = new LRU<string>({ capacity: 2, ttl: 100, grace: 50 });
  c.set('a', 'A', 0);
  t.equal(c.stale('a', 10), 'A', 'stale() serves fresh entries too');
  t.equal(c.get('a', 100), undefined, 'expired for get');
  t.equal(c.expired, 1);
  t.equal(c.size, 1, 'kept within the grace');
  t.equal(c.stale('a', 149), 'A', 'stale within the grace');
  t.equal(c.stale('a', 150), undefined, 'not past it');
  t.equal(c.stale('b', 0), undefined, 'absent');
  t.equal(c.get('a', 150), undefined);
  t.equal(c.size, 0, 'removed once past ttl + grace');
  t.throws(() => new LRU({ capacity: 1, ttl: 1, grace: -1 }), RangeError);
});

t.test('weigh: bytes follow inserts, replacements, evictions, expiry, deletes and clear', async (t) => {
  const c = new LRU<string>({ capacity: 2, ttl: 100, weigh: (v) => v.length });
  c.set('a', 'xx', 0);
  c.set('b', 'yyy', 0);
  t.equal(c.bytes, 5);
  c.set('a', 'z', 0);
  t.equal(c.bytes, 4, 'replacement');
  c.set('c', 'wwww', 0);
  t.equal(c.bytes, 5, 'b evicted');
  t.equal(c.get('a', 100), undefined);
  t.equal(c.bytes, 4, 'expired a removed');
  c.delete('c');
  t.equal(c.bytes, 0);
  c.set('d', 'dd', 0);
  c.clear();
  t.equal(c.bytes, 0);
  t.equal(new LRU<string>({ capacity: 1, ttl: 1 }).bytes, 0, 'no weigh, no bytes');
});

t.test('maxBytes: least recently used entries go until the bytes fit; a value over the budget alone is not kept', async (t) => {
  const c = new LRU<string>({ capacity: 10, ttl: 1000, weigh: (v) => v.length, maxBytes: 10 });
  c.set('a', 'aaaa', 0);
  c.set('b', 'bbbb', 0);
  t.equal(c.get('a', 1), 'aaaa', 'a read: b is now the least recently used');
  c.set('c', 'cccc', 0);
  t.same(c.keys(), ['c', 'a'], 'b evicted for bytes while capacity had room');
  t.equal(c.bytes, 8);
  t.equal(c.evicted, 1);
  c.set('d', 'dddddddd', 0);
  t.same(c.keys(), ['d'], 'an 8-byte value evicts both 4-byte ones, the least recently used first');
  t.equal(c.bytes, 8);
  t.equal(c.evicted, 3);
  c.set('d', 'x'.repeat(11), 0);
  t.equal(c.get('d', 1), undefined, 'a value heavier than the budget is not kept, and the older value of its key is gone');
  t.equal(c.bytes, 0);
  t.equal(c.evicted, 3, 'that removal is not an eviction');
  c.set('e', 'x'.repeat(10), 0);
  t.equal(c.get('e', 1), 'x'.repeat(10), 'exactly the budget fits');
  c.set('e', 'yy', 0);
  c.set('f', 'z'.repeat(8), 0);
  t.same(c.keys(), ['f', 'e'], 'a lighter replacement frees its bytes');
  t.throws(() => new LRU({ capacity: 1, ttl: 1, maxBytes: -1 }), RangeError);
  t.equal(new LRU<string>({ capacity: 1, ttl: 1 }).maxBytes, Number.POSITIVE_INFINITY, 'no limit by default');
});
