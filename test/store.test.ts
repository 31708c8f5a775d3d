/** The compact store: the LRU and TTL semantics of the seed's cache, binary keys, the index, and the byte budget. */
import t from 'tap';
import { Arena } from '../src/cache/arena.js';
import { ABSENT, ENTRY_BYTES, MISS, Store } from '../src/cache/store.js';
import { seededRandom } from './helpers/random.js';

/** The value of `key` as a string, or undefined: `getKey` then a read of the bytes. */
function get(c: Store, key: string, now: number): string | undefined {
  const e = c.getKey(key, now);
  return e === MISS ? undefined : c.value(e).toString('latin1');
}
function set(c: Store, key: string, value: string, now: number): number {
  return c.set(key, Buffer.from(value, 'latin1'), now);
}

t.test('evicts the least recently used entry', async (t) => {
  const c = new Store({ capacity: 3, ttl: 1000 });
  for (const k of ['a', 'b', 'c', 'd']) set(c, k, k.toUpperCase(), 0);
  t.equal(get(c, 'a', 0), undefined, 'oldest insert evicted');
  t.same(c.keys(), ['d', 'c', 'b']);
  t.equal(c.evicted, 1);
  t.equal(c.size, 3);
});

t.test('a read refreshes recency', async (t) => {
  const c = new Store({ capacity: 3, ttl: 1000 });
  for (const k of ['a', 'b', 'c']) set(c, k, k.toUpperCase(), 0);
  t.equal(get(c, 'a', 1), 'A');
  set(c, 'd', 'D', 1);
  t.equal(get(c, 'b', 1), undefined, 'b was least recently read');
  t.equal(get(c, 'a', 1), 'A');
  t.same(c.keys(), ['a', 'd', 'c']);
});

t.test('replacing a key keeps one entry and refreshes it', async (t) => {
  const c = new Store({ capacity: 2, ttl: 1000 });
  set(c, 'a', 'A', 0);
  set(c, 'b', 'B', 0);
  set(c, 'a', 'A2', 0);
  set(c, 'c', 'C', 0);
  t.equal(c.size, 2);
  t.equal(get(c, 'a', 0), 'A2');
  t.equal(get(c, 'b', 0), undefined);
});

t.test('capacity 1 and capacity 0', async (t) => {
  const c = new Store({ capacity: 1, ttl: 1000 });
  set(c, 'a', '1', 0);
  t.equal(get(c, 'a', 0), '1');
  set(c, 'b', '2', 0);
  t.equal(get(c, 'a', 0), undefined);
  t.equal(get(c, 'b', 0), '2');
  t.equal(c.size, 1);
  const none = new Store({ capacity: 0, ttl: 1000 });
  t.equal(set(none, 'a', '1', 0), MISS);
  t.equal(get(none, 'a', 0), undefined);
  t.equal(none.size, 0);
});

t.test('expiry is lazy and counted from insertion; an expired entry holds its place until read or evicted', async (t) => {
  const c = new Store({ capacity: 2, ttl: 100 });
  set(c, 'a', 'A', 1000);
  t.equal(get(c, 'a', 1099), 'A', 'alive just before the ttl');
  t.equal(get(c, 'a', 1100), undefined, 'expired at the ttl, reads do not extend it');
  t.equal(c.size, 0, 'removed when found expired');
  t.equal(c.expired, 1);
  set(c, 'a', 'A', 0);
  set(c, 'b', 'B', 150);
  t.equal(c.size, 2, 'nothing sweeps in the background');
  set(c, 'c', 'C', 150);
  t.same(c.keys(), ['c', 'b'], 'the expired, least recent entry is the one evicted');
  set(c, 'c', 'new', 200);
  t.equal(get(c, 'c', 250), 'new');
  t.equal(get(c, 'c', 300), undefined, 'the new entry has its own ttl');
});

t.test('delete and clear', async (t) => {
  const c = new Store({ capacity: 3, ttl: 100 });
  set(c, 'a', 'A', 0);
  set(c, 'b', 'B', 0);
  t.equal(c.delete('a'), true);
  t.equal(c.delete('a'), false);
  t.same(c.keys(), ['b']);
  set(c, 'x', 'X', 0);
  set(c, 'y', 'Y', 0);
  t.equal(c.evicted, 0, 'a deleted entry is reused before anything is evicted');
  c.clear();
  t.equal(c.size, 0);
  t.equal(c.arena.used, 0);
  t.same(c.keys(), []);
  for (const k of ['p', 'q', 'r']) set(c, k, k, 0);
  t.same(c.keys(), ['r', 'q', 'p'], 'usable at full capacity after clear');
});

t.test('holds exactly capacity entries under churn', async (t) => {
  const c = new Store({ capacity: 100, ttl: 1e9 });
  for (let i = 0; i < 10000; i++) set(c, `k${i}`, String(i), 0);
  t.equal(c.size, 100);
  t.equal(c.evicted, 9900);
  t.same(c.keys().slice(0, 2), ['k9999', 'k9998']);
  t.equal(get(c, 'k9900', 0), '9900');
  t.equal(get(c, 'k9899', 0), undefined);
});

t.test('rejects a bad capacity, ttl, grace or maxBytes', async (t) => {
  t.throws(() => new Store({ capacity: -1, ttl: 1 }), RangeError);
  t.throws(() => new Store({ capacity: 1.5, ttl: 1 }), RangeError);
  t.throws(() => new Store({ capacity: 1, ttl: Number.NaN }), RangeError);
  t.throws(() => new Store({ capacity: 1, ttl: 1, grace: -1 }), RangeError);
  t.throws(() => new Store({ capacity: 1, ttl: 1, maxBytes: -1 }), RangeError);
  t.equal(new Store({ capacity: 1, ttl: 1 }).maxBytes, Number.POSITIVE_INFINITY, 'no limit by default');
});

t.test('grace: an expired entry is kept for stale() until ttl + grace, then removed', async (t) => {
  const c = new Store({ capacity: 2, ttl: 100, grace: 50 });
  set(c, 'a', 'A', 0);
  t.equal(c.value(c.stale('a', 10)).toString(), 'A', 'stale() serves fresh entries too');
  t.equal(get(c, 'a', 100), undefined, 'expired for get');
  t.equal(c.expired, 1);
  t.equal(c.size, 1, 'kept within the grace');
  t.equal(c.value(c.stale('a', 149)).toString(), 'A', 'stale within the grace');
  t.equal(c.stale('a', 150), MISS, 'not past it');
  t.equal(c.stale('b', 0), MISS, 'absent');
  t.equal(get(c, 'a', 150), undefined);
  t.equal(c.size, 0, 'removed once past ttl + grace');
});

t.test('negative entries, empty values and ETag words', async (t) => {
  const c = new Store({ capacity: 4, ttl: 100 });
  const absent = c.set('gone', undefined, 0);
  t.equal(c.valueLength(absent), ABSENT);
  t.equal(c.value(absent).length, 0);
  const empty = c.set('empty', Buffer.alloc(0), 0, 7, -8);
  t.equal(c.valueLength(empty), 0, 'an empty value is not a negative entry');
  t.same([c.etagHigh(empty), c.etagLow(empty)], [7, -8]);
  t.equal(c.getKey('gone', 1), absent);
});

t.test('binary keys: every byte value, lookups from bytes and from latin1 strings agree', async (t) => {
  const c = new Store({ capacity: 300, ttl: 1000 });
  for (let b = 0; b < 256; b++) set(c, String.fromCharCode(b, 255 - b, 0), `v${b}`, 0);
  t.equal(c.size, 256, 'no two of them collide as keys');
  for (let b = 0; b < 256; b++) {
    const bytes = Buffer.from([9, 9, b, 255 - b, 0, 9]);
    const e = c.get(bytes, 2, 3, 1);
    t.equal(e === MISS ? undefined : c.value(e).toString(), `v${b}`);
  }
  t.equal(c.find(Buffer.from([0, 255]), 0, 2), MISS, 'a prefix is not the key');
  t.equal(c.key(c.findKey('\u00ff\u0000\u0000')), '\u00ff\u0000\u0000');
});

t.test('the index grows and shrinks by backward shift: every key stays findable under churn', async (t) => {
  const c = new Store({ capacity: 5000, ttl: 1e9 });
  const held = new Set<string>();
  const random = seededRandom(3);
  let disagreements = 0;
  for (let i = 0; i < 40000; i++) {
    const key = `k${Math.floor(random() * 7000)}`;
    if (random() < 1 / 3) {
      if (c.delete(key) !== held.delete(key)) disagreements++;
    } else if (c.size < 5000 || held.has(key)) {
      set(c, key, key, 0);
      held.add(key);
    }
  }
  t.equal(disagreements, 0, 'delete found exactly the held keys');
  t.equal(c.size, held.size);
  t.equal(c.evicted, 0);
  let found = 0;
  for (const key of held) if (get(c, key, 0) === key) found++;
  t.equal(found, held.size, 'every held key is found');
  t.ok(c.index.table.length <= 16384, `the table stayed at most 2× the next power of two (${c.index.table.length} slots)`);
});

t.test('bytes count every byte held: blocks, metadata and the index, exact to the byte', async (t) => {
  const c = new Store({ capacity: 10, ttl: 1000 });
  const expected = (entries: [string, number][]): number =>
    entries.reduce((s, [k, v]) => s + Arena.granules(k.length + v) * 8 + ENTRY_BYTES, 0) + c.index.bytes;
  set(c, 'a', 'xx', 0);
  set(c, 'bb', 'y'.repeat(100), 0);
  t.equal(
    c.bytes,
    expected([
      ['a', 2],
      ['bb', 100],
    ]),
  );
  t.equal(c.bytes, 16 + 112 + 2 * 36 + 64, 'by hand: blocks of 16 and 112 bytes, two 36-byte records, a 16-slot index');
  set(c, 'a', 'z', 0);
  t.equal(
    c.bytes,
    expected([
      ['a', 1],
      ['bb', 100],
    ]),
    'replacement',
  );
  c.delete('bb');
  t.equal(c.bytes, expected([['a', 1]]));
  c.clear();
  t.equal(c.bytes, c.index.bytes, 'the index table stays');
});

t.test('maxBytes: least recently used entries go until everything fits; an entry over the budget alone is not kept', async (t) => {
  // Each 'k' + 20-byte value takes a 32-byte block and a 36-byte record; the index 64 bytes.
  const one = 32 + ENTRY_BYTES;
  const c = new Store({ capacity: 10, ttl: 1000, maxBytes: 64 + 2 * one });
  set(c, 'a', 'a'.repeat(20), 0);
  set(c, 'b', 'b'.repeat(20), 0);
  t.equal(c.bytes, c.maxBytes, 'two entries fill the budget exactly');
  t.equal(get(c, 'a', 1), 'a'.repeat(20), 'a read: b is now the least recently used');
  set(c, 'c', 'c'.repeat(20), 0);
  t.same(c.keys(), ['c', 'a'], 'b evicted for bytes while capacity had room');
  t.equal(c.evicted, 1);
  set(c, 'd', 'd'.repeat(80), 0);
  t.same(c.keys(), ['d'], 'a larger value evicts both, the least recently used first');
  t.equal(c.evicted, 3);
  t.equal(set(c, 'd', 'x'.repeat(200), 0), MISS, 'heavier than the budget alone: not kept');
  t.equal(get(c, 'd', 1), undefined, 'and the older value of its key is gone');
  t.equal(c.evicted, 3, 'that removal is not an eviction');
  t.equal(c.bytes, c.index.bytes);
});

t.test('a value larger than an arena page is stored on a page of its own', async (t) => {
  const c = new Store({ capacity: 4, ttl: 1000, pageBytes: 4096 });
  const big = Buffer.alloc(100000, 7);
  const e = c.set('big', big, 0);
  t.ok(c.value(e).equals(big));
  set(c, 'small', 's', 0);
  t.equal(c.delete('big'), true);
  t.equal(c.arena.reserved, 4096, 'its page went with it');
  t.equal(get(c, 'small', 0), 's');
});

t.test('fetch times are whole ms from an epoch that moves on before an int32 overflows', async (t) => {
  const c = new Store({ capacity: 4, ttl: 2 ** 31 - 1 });
  set(c, 'old', 'o', 10.7);
  t.equal(c.age(c.findKey('old'), 20), 10, 'the stamp is the whole ms: the age may be up to 1 ms more than exact');
  const day = 86_400_000;
  set(c, 'new', 'n', 20 * day);
  t.equal(c.age(c.findKey('new'), 20 * day + 5), 5, 'after the epoch moved');
  t.equal(c.age(c.findKey('old'), 20 * day), 20 * day - 10, 'older stamps moved with it');
  set(c, 'later', 'l', 60 * day);
  t.equal(c.age(c.findKey('old'), 60 * day), 2 ** 31 + 2 ** 29, 'a stamp beyond an int32 is clamped, still older than any TTL');
  t.equal(get(c, 'new', 60 * day), undefined, 'and expiry still works across moves');
  t.equal(get(c, 'later', 60 * day + 1), 'l');
});

t.test('an entry whose key expired in Redis is gone when read: not fresh, not stale', async (t) => {
  const c = new Store({ capacity: 10, ttl: 1000, swr: 1000, grace: 5000 });
  c.set('k', Buffer.from('v'), 100, 0, 0, 250.7);
  c.set('n', Buffer.from('v'), 100);
  t.equal(c.lifeMs(c.findKey('k'), 100), 250, 'life rounded down');
  t.equal(c.lifeMs(c.findKey('n'), 100), -1, 'no TTL');
  t.equal(get(c, 'k', 349), 'v');
  t.equal(c.stale('k', 349) !== MISS, true);
  t.equal(c.stale('k', 350), MISS, 'expired: not stale either');
  t.equal(get(c, 'k', 350), undefined);
  t.equal(c.findKey('k'), MISS, 'removed when read');
  t.equal(c.expired, 1);
  t.equal(get(c, 'n', 1500), 'v', 'without a TTL, the SWR window as before');
  t.equal(c.stale('n', 6000), c.findKey('n'), 'and the grace');
});

t.test('expiries move with the epoch, and a key without one never expires by it', async (t) => {
  const c = new Store({ capacity: 10, ttl: 2 ** 31 });
  c.set('k', Buffer.from('v'), 0, 0, 0, 2 ** 30 + 1000);
  c.set('n', Buffer.from('v'), 0);
  c.set('m', Buffer.from('v'), 2 ** 30 + 10);
  t.equal(c.lifeMs(c.findKey('k'), 2 ** 30 + 10), 990, 'the same expiry after the rebase');
  t.equal(get(c, 'k', 2 ** 30 + 1000), undefined);
  t.equal(get(c, 'n', 2 ** 30 + 1000), 'v');
  t.equal(c.lifeMs(c.findKey('n'), 2 ** 30 + 1000), -1);
});
