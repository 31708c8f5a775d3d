/**
 * A shard's cache: keys, values and per-entry metadata in a few large
 * ArrayBuffers, with no JS object per entry, so the garbage collector sees
 * the whole cache as a handful of arrays however many keys it holds.
 *
 * - Key and value bytes share one block of the `Arena` (key first).
 * - Metadata is one 36-byte record per entry (`Entries`): key length and
 *   hash tag, value length, arena address, fetch time, ETag words, recency
 *   links. The records grow by doubling up to `capacity`.
 * - `KeyIndex` maps hashes to entry numbers; a lookup compares the key's
 *   bytes where they lie (the request batch, say) with the stored ones, so a
 *   hit makes no string.
 * - Recency is an exact LRU by default (a read refreshes it): `Lists`;
 *   `eviction: 'tinylfu'` puts W-TinyLFU's admission in front (`policy.ts`).
 *
 * Every operation is O(1) expected (amortised for `set`, whose index and
 * records double now and then); docs/cache.md has the table of costs.
 *
 * Expiry is lazy: an entry past `ttl` is treated as absent when
 * read (and removed once past `ttl + grace`), and otherwise waits for
 * eviction. An entry whose key has expired in Redis (`EXPIRES`, the TTL read
 * with the value) is removed when read, whatever the windows. Negative entries (a key Redis said is absent) have a value
 * length of `ABSENT`.
 */
import { Arena } from './arena.js';
import {
  ADDR,
  AT,
  Entries,
  ETAG_HIGH,
  ETAG_LOW,
  EXPIRES,
  KEY_LENGTH_MASK,
  NEXT,
  NO_EXPIRY,
  STRIDE,
  TAG_LENGTH,
  TAG_MASK,
  tagLength,
  VALUE_LENGTH,
} from './entries.js';
import { ABSENT, EntryView, NO_LIFE } from './entry-view.js';
import { hashBytes } from './key-hash.js';
import { EMPTY, KeyIndex } from './key-index.js';
import { LISTS, Lists } from './lists.js';
import { LruPolicy, type Policy } from './policy.js';
import { check, type StoreOptions } from './store-options.js';
import { FrequencySketch } from './sketch.js';
import { TinyLfuPolicy } from './tinylfu.js';

export { ABSENT, NO_LIFE } from './entry-view.js';
export type { StoreOptions } from './store-options.js';
/** What `get` and friends return when there is no (usable) entry. */
export const MISS = -1;
/** Metadata bytes per entry: its record (`Entries`). */
export const ENTRY_BYTES = STRIDE * 4;
/** Fetch times are whole ms since an epoch, in an int32: the epoch moves on before they reach this. */
const REBASE_AT = 2 ** 30;

export class Store extends EntryView {
  readonly capacity: number;
  readonly ttl: number;
  readonly maxBytes: number;
  /** Entries evicted for room (capacity or bytes). */
  evicted = 0;
  /** Reads that found their entry past its TTL. */
  expired = 0;
  readonly index = new KeyIndex();
  readonly lists: Lists;
  readonly policy: Policy;
  readonly #grace: number;
  /** `ttl + swr`: the age from which `get` treats an entry as expired. */
  readonly #serveFor: number;
  /** First record of the free chain (through `NEXT`), or `EMPTY`. */
  #free = EMPTY;
  /** Entry numbers below this have been handed out at least once. */
  #top = LISTS;
  /** The hash of the key the last `find` looked up. */
  #hash = 0;
  /** Where `findKey` writes a string key's bytes to look them up. */
  #scratch = Buffer.allocUnsafeSlow(256);
  readonly #hashOf = (e: number): number => {
    const m = this.entries.words;
    const addr = m[e * STRIDE + ADDR]! >>> 0;
    return hashBytes(this.arena.bytes[Arena.page(addr)]!, Arena.payload(addr), m[e * STRIDE + TAG_LENGTH]! & KEY_LENGTH_MASK);
  };

  constructor(options: StoreOptions) {
    super(
      new Arena(options.pageBytes === undefined ? {} : { pageBytes: options.pageBytes }),
      new Entries(LISTS + Math.min(options.capacity, 1024)),
    );
    const { capacity, ttl } = check(options);
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    this.capacity = capacity;
    this.ttl = ttl;
    this.#grace = options.grace ?? 0;
    this.#serveFor = ttl + (options.swr ?? 0);
    this.lists = new Lists(this.entries);
    this.policy =
      options.eviction === 'tinylfu'
        ? new TinyLfuPolicy({
            lists: this.lists,
            words: () => this.entries.words,
            hashOf: this.#hashOf,
            sketch: new FrequencySketch(capacity),
            capacity,
          })
        : new LruPolicy(this.lists);
  }

  /** Entries held, expired ones included until they are read or evicted. */
  get size(): number {
    return this.index.size;
  }

  /** Bytes held: see `StoreOptions.maxBytes` for what counts. */
  get bytes(): number {
    return this.arena.used + this.index.size * ENTRY_BYTES + this.index.bytes + this.policy.bytes;
  }

  /** The entry of the key `bytes[offset, offset + length)`, whatever its age, or `MISS`; changes nothing. */
  find(bytes: Uint8Array, offset: number, length: number): number {
    const hash = hashBytes(bytes, offset, length);
    this.#hash = hash;
    const want = tagLength(hash, length);
    const m = this.entries.words;
    const { table, mask } = this.index;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const e = table[slot]!;
      if (e === EMPTY) return MISS;
      if (((m[e * STRIDE + TAG_LENGTH]! ^ want) & (TAG_MASK | KEY_LENGTH_MASK)) === 0 && this.#sameBytes(e, bytes, offset, length))
        return e;
    }
  }

  /** `find` for a key given as a latin1 string (one char per byte). */
  findKey(key: string): number {
    if (key.length > this.#scratch.length) this.#scratch = Buffer.allocUnsafeSlow(Math.max(key.length, 2 * this.#scratch.length));
    this.#scratch.latin1Write(key, 0);
    return this.find(this.#scratch, 0, key.length);
  }

  /** `find`, then the entry if younger than `ttl + swr` (marked as read), else `MISS` (removed when past the grace too). */
  get(bytes: Uint8Array, offset: number, length: number, now: number): number {
    const e = this.find(bytes, offset, length);
    this.policy.access(this.#hash);
    return this.#fresh(e, now);
  }

  /** `get` for a key given as a latin1 string. */
  getKey(key: string, now: number): number {
    const e = this.findKey(key);
    this.policy.access(this.#hash);
    return this.#fresh(e, now);
  }

  /** The entry of `key` even past its TTL, as long as it is within the grace and its key has not expired in Redis; recency unchanged. */
  stale(key: string, now: number): number {
    const e = this.findKey(key);
    return e !== MISS && this.age(e, now) < this.#serveFor + this.#grace && !this.expiredInRedis(e, now) ? e : MISS;
  }

  /**
   * Stores `value` (or, when `undefined`, a negative entry) for `key` with
   * fetch time `at`, ETag words `etagHigh`, `etagLow` and `lifeMs` to live in
   * Redis from `at` (`NO_LIFE`: no TTL), as the most recently used entry,
   * replacing any older one; evicts for room. Returns the new entry, or
   * `MISS` when not kept: capacity 0, or too big for `maxBytes` on its own
   * (then an older entry of `key` is gone too, as it would be stale).
   */
  set(key: string, value: Uint8Array | undefined, at: number, etagHigh = 0, etagLow = 0, lifeMs = NO_LIFE): number {
    const old = this.findKey(key);
    const hash = this.#hash;
    if (old !== MISS) this.#remove(old);
    const valueLength = value === undefined ? 0 : value.length;
    if (this.capacity === 0 || Arena.granules(key.length + valueLength) * 8 + ENTRY_BYTES + this.index.bytes > this.maxBytes) return MISS;
    while (this.index.size >= this.capacity) this.#evict();
    let addr = this.arena.alloc(key.length + valueLength);
    while (addr === -1 && this.index.size > 0) {
      this.#evict();
      addr = this.arena.alloc(key.length + valueLength);
    }
    if (addr === -1) return MISS;
    const e = this.#newEntry();
    const page = this.arena.bytes[Arena.page(addr)]!;
    const start = Arena.payload(addr);
    page.latin1Write(key, start);
    if (value !== undefined) page.set(value, start + key.length);
    const m = this.entries.words;
    const r = e * STRIDE;
    m[r + TAG_LENGTH] = tagLength(hash, key.length);
    m[r + VALUE_LENGTH] = value === undefined ? ABSENT : valueLength;
    m[r + ADDR] = addr;
    m[r + AT] = this.#stamp(at);
    m[r + ETAG_HIGH] = etagHigh;
    m[r + ETAG_LOW] = etagLow;
    // Rounded down, and clamped below the rebase bound: never later than Redis's expiry.
    m[r + EXPIRES] = lifeMs < 0 ? NO_EXPIRY : Math.min(NO_EXPIRY - 1, Math.floor(at + lifeMs - this.epoch));
    this.index.insert(e, hash, this.#hashOf);
    this.policy.insert(e);
    while (this.bytes > this.maxBytes) {
      const victim = this.#evict();
      if (victim === e) return MISS;
    }
    return e;
  }

  /** Removes `key`; returns whether it was held. */
  delete(key: string): boolean {
    const e = this.findKey(key);
    if (e === MISS) return false;
    this.#remove(e);
    return true;
  }

  /** Removes every entry and gives the arena's pages back. */
  clear(): void {
    this.index.clear();
    this.lists.clear();
    this.policy.clear();
    this.arena.clear();
    this.#free = EMPTY;
    this.#top = LISTS;
  }

  /** Keys from first to be kept to first to go (LRU: most to least recently used); for tests and debugging, O(size). */
  keys(): string[] {
    return this.policy.order().map((e) => this.key(e));
  }

  #fresh(e: number, now: number): number {
    if (e === MISS) return MISS;
    const age = this.age(e, now);
    if (this.expiredInRedis(e, now)) {
      // Gone in Redis: neither served stale nor kept for STALE_IF_ERROR_MS.
      this.expired++;
      this.#remove(e);
      return MISS;
    }
    if (age >= this.#serveFor) {
      this.expired++;
      if (age >= this.#serveFor + this.#grace) this.#remove(e);
      return MISS;
    }
    this.policy.hit(e);
    return e;
  }

  /** Evicts the policy's victim (LRU: the least recently used entry); returns it. */
  #evict(): number {
    const victim = this.policy.victim();
    this.evicted++;
    this.#remove(victim);
    return victim;
  }

  #remove(e: number): void {
    const m = this.entries.words;
    this.index.remove(e, this.#hashOf(e), this.#hashOf);
    this.policy.remove(e);
    this.arena.free(m[e * STRIDE + ADDR]! >>> 0);
    m[e * STRIDE + NEXT] = this.#free;
    this.#free = e;
  }

  #newEntry(): number {
    if (this.#free !== EMPTY) {
      const e = this.#free;
      this.#free = this.entries.words[e * STRIDE + NEXT]!;
      return e;
    }
    const e = this.#top++;
    if (e === this.entries.count) this.entries.grow(Math.min(this.capacity + LISTS, e * 2));
    return e;
  }

  /**
   * `at` as whole ms since the epoch. Past 2^30 ms (12 days) the epoch moves
   * forward so that `at` is 2^29 ms after it, and every record's stamp with
   * it: O(entries), once in 6 days. Stamps older than an int32 can hold are
   * clamped to its least value (those entries are weeks old).
   */
  #stamp(at: number): number {
    const t = Math.floor(at - this.epoch);
    if (t < REBASE_AT) return t;
    const shift = t - REBASE_AT / 2;
    this.epoch += shift;
    this.entries.shiftStamps(LISTS, this.#top, shift);
    return t - shift;
  }

  #sameBytes(e: number, bytes: Uint8Array, offset: number, length: number): boolean {
    const addr = this.entries.words[e * STRIDE + ADDR]! >>> 0;
    const page = this.arena.bytes[Arena.page(addr)]!;
    const start = Arena.payload(addr);
    for (let i = 0; i < length; i++) if (page[start + i] !== bytes[offset + i]) return false;
    return true;
  }
}
