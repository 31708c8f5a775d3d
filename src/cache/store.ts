/**
 * A shard's cache: keys, values and per-entry metadata in a few large
 * ArrayBuffers, with no JS object per entry, so the garbage collector sees
 * the whole cache as a handful of arrays however many keys it holds.
 *
 * - Key and value bytes share one block of the `Arena` (key first).
 * - Metadata lives in typed arrays indexed by entry number: hash, fetch
 *   time, arena address, key and value lengths, ETag words, recency links.
 *   They grow by doubling up to `capacity`.
 * - `KeyIndex` maps hashes to entry numbers; a lookup compares the key's
 *   bytes where they lie (the request batch, say) with the stored ones, so a
 *   hit makes no string.
 * - Recency is an exact LRU by default (a read refreshes it): `Lists`.
 *
 * | operation | cost |
 * | --- | --- |
 * | `get`, `getKey`, `stale` | O(1) expected: one hash of the key, ~1.5 probes, one key compare, one relink |
 * | `set` | O(1) expected: one lookup, one arena allocation, evictions of O(1) each (amortised: the index and the metadata arrays double) |
 * | `delete` | O(1) expected |
 * | `clear` | O(capacity) |
 *
 * Expiry is lazy as before: an entry past `ttl` is treated as absent when
 * read (and removed once past `ttl + grace`), and otherwise waits for
 * eviction. Negative entries (a key Redis said is absent) have a value
 * length of `ABSENT`.
 */
import { Arena } from './arena.js';
import { hashBytes, hashString } from './key-hash.js';
import { EMPTY, KeyIndex } from './key-index.js';
import { LISTS, Lists } from './lists.js';

/** Value length of a negative entry: the key is known to be absent. */
export const ABSENT = -1;
/** What `get` and friends return when there is no (usable) entry. */
export const MISS = -1;
/**
 * Metadata bytes per entry number: hash 4, fetch time 8, address 4, key and
 * value lengths 8, ETag 8, recency links 8, free-list slot 4.
 */
export const ENTRY_BYTES = 44;
const RECENCY = 0;

export interface StoreOptions {
  /**
   * Entries held at most. The metadata arrays grow to it as entries arrive,
   * so a large capacity costs nothing until it is used.
   */
  capacity: number;
  /** Time-to-live of every entry from its fetch time, in the unit of `now` (ms). */
  ttl: number;
  /** How long past `ttl` an entry is kept for `stale` (STALE_IF_ERROR_MS); default 0. */
  grace?: number;
  /**
   * Bytes held at most, counting everything the store holds: each entry's
   * arena block (key, value, 4-byte header, rounding to 8), its metadata
   * (`ENTRY_BYTES`) and the index table, as Redis's `maxmemory` counts its
   * overhead. Least recently used entries go first. Default: no limit.
   */
  maxBytes?: number;
  /** Arena page size (`ArenaOptions.pageBytes`). */
  pageBytes?: number;
}

/** See the file comment. */
export class Store {
  readonly capacity: number;
  readonly ttl: number;
  readonly maxBytes: number;
  /** Entries evicted for room (capacity or bytes). */
  evicted = 0;
  /** Reads that found their entry past its TTL. */
  expired = 0;
  readonly arena: Arena;
  readonly index = new KeyIndex();
  readonly lists: Lists;
  hashes: Int32Array;
  /** Fetch time of each entry (ms on the shard's clock). */
  at: Float64Array;
  /** Arena address of each entry's block. */
  addr: Uint32Array;
  keyLength: Int32Array;
  /** Value length, or `ABSENT`. */
  valueLength: Int32Array;
  /** Two words per entry: the ETag (`etagWords`). */
  etag: Int32Array;
  readonly #grace: number;
  #free: Int32Array;
  #freeTop = 0;
  /** Entry numbers below this have been handed out at least once. */
  #top = LISTS;

  constructor(options: StoreOptions) {
    const { capacity, ttl } = options;
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`capacity must be a non-negative integer, got ${capacity}`);
    if (!(ttl >= 0)) throw new RangeError(`ttl must be a non-negative number, got ${ttl}`);
    if (!((options.grace ?? 0) >= 0)) throw new RangeError(`grace must be a non-negative number, got ${options.grace}`);
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    if (!(this.maxBytes >= 0)) throw new RangeError(`maxBytes must be a non-negative number, got ${options.maxBytes}`);
    this.capacity = capacity;
    this.ttl = ttl;
    this.#grace = options.grace ?? 0;
    this.arena = new Arena(options.pageBytes === undefined ? {} : { pageBytes: options.pageBytes });
    const entries = LISTS + Math.min(capacity, 1024);
    this.lists = new Lists(entries);
    this.hashes = new Int32Array(entries);
    this.at = new Float64Array(entries);
    this.addr = new Uint32Array(entries);
    this.keyLength = new Int32Array(entries);
    this.valueLength = new Int32Array(entries);
    this.etag = new Int32Array(entries * 2);
    this.#free = new Int32Array(entries);
  }

  /** Entries held, expired ones included until they are read or evicted. */
  get size(): number {
    return this.index.size;
  }

  /** Bytes held: see `StoreOptions.maxBytes` for what counts. */
  get bytes(): number {
    return this.arena.used + this.index.size * ENTRY_BYTES + this.index.bytes;
  }

  /** The entry of the key `bytes[offset, offset + length)`, whatever its age, or `MISS`; changes nothing. */
  find(bytes: Uint8Array, offset: number, length: number): number {
    const hash = hashBytes(bytes, offset, length);
    const { table, mask } = this.index;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const e = table[slot]!;
      if (e === EMPTY) return MISS;
      if (this.hashes[e] === hash && this.keyLength[e] === length && this.#sameBytes(e, bytes, offset, length)) return e;
    }
  }

  /** `find` for a key given as a latin1 string. */
  findKey(key: string): number {
    const hash = hashString(key);
    const { table, mask } = this.index;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const e = table[slot]!;
      if (e === EMPTY) return MISS;
      if (this.hashes[e] === hash && this.keyLength[e] === key.length && this.#sameString(e, key)) return e;
    }
  }

  /**
   * The fresh entry of the key `bytes[offset, offset + length)`, marked most
   * recently used; `MISS` when absent or past its TTL (removed when past the
   * grace too).
   */
  get(bytes: Uint8Array, offset: number, length: number, now: number): number {
    return this.#fresh(this.find(bytes, offset, length), now);
  }

  /** `get` for a key given as a latin1 string. */
  getKey(key: string, now: number): number {
    return this.#fresh(this.findKey(key), now);
  }

  /** The entry of `key` even past its TTL, as long as it is within the grace; recency unchanged. */
  stale(key: string, now: number): number {
    const e = this.findKey(key);
    return e !== MISS && now - this.at[e]! < this.ttl + this.#grace ? e : MISS;
  }

  /**
   * Stores `value` (or, when `undefined`, a negative entry) for `key` with
   * fetch time `at` and ETag words `etagHigh`, `etagLow`, as the most
   * recently used entry, replacing any older one; evicts for room. Returns
   * the new entry, or `MISS` when it is not kept: capacity 0, or it would
   * not fit in `maxBytes` on its own (then an older entry of `key` is gone
   * too, as it would be stale).
   */
  set(key: string, value: Uint8Array | undefined, at: number, etagHigh = 0, etagLow = 0): number {
    const old = this.findKey(key);
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
    this.hashes[e] = hashString(key);
    this.at[e] = at;
    this.addr[e] = addr;
    this.keyLength[e] = key.length;
    this.valueLength[e] = value === undefined ? ABSENT : valueLength;
    this.etag[e * 2] = etagHigh;
    this.etag[e * 2 + 1] = etagLow;
    this.index.insert(e, this.hashes);
    this.lists.pushFront(RECENCY, e);
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
    this.arena.clear();
    this.#freeTop = 0;
    this.#top = LISTS;
  }

  /** The page holding entry `e`'s bytes: its value is `page[valueStart(e), valueStart(e) + valueLength[e])`. */
  page(e: number): Buffer {
    return this.arena.bytes[Arena.page(this.addr[e]!)]!;
  }

  /** Where entry `e`'s value starts in `page(e)`. */
  valueStart(e: number): number {
    return Arena.payload(this.addr[e]!) + this.keyLength[e]!;
  }

  /** Entry `e`'s value as a view into the arena (valid until the entry goes); empty for a negative entry. */
  value(e: number): Buffer {
    const start = this.valueStart(e);
    return this.page(e).subarray(start, start + Math.max(0, this.valueLength[e]!));
  }

  /** Entry `e`'s key as a latin1 string. */
  key(e: number): string {
    const start = Arena.payload(this.addr[e]!);
    return this.page(e).latin1Slice(start, start + this.keyLength[e]!);
  }

  /** Keys from most to least recently used; for tests and debugging, O(size). */
  keys(): string[] {
    const out: string[] = [];
    for (let e = this.lists.first(RECENCY); e !== RECENCY; e = this.lists.next[e]!) out.push(this.key(e));
    return out;
  }

  #fresh(e: number, now: number): number {
    if (e === MISS) return MISS;
    const age = now - this.at[e]!;
    if (age >= this.ttl) {
      this.expired++;
      if (age >= this.ttl + this.#grace) this.#remove(e);
      return MISS;
    }
    this.lists.moveFront(RECENCY, e);
    return e;
  }

  /** Evicts the least recently used entry; returns it. */
  #evict(): number {
    const victim = this.lists.last(RECENCY);
    this.evicted++;
    this.#remove(victim);
    return victim;
  }

  #remove(e: number): void {
    this.index.remove(e, this.hashes);
    this.lists.unlink(RECENCY, e);
    this.arena.free(this.addr[e]!);
    this.#free[this.#freeTop++] = e;
  }

  #newEntry(): number {
    if (this.#freeTop > 0) return this.#free[--this.#freeTop]!;
    const e = this.#top++;
    if (e === this.hashes.length) this.#grow(Math.min(this.capacity + LISTS, e * 2));
    return e;
  }

  #grow(entries: number): void {
    this.lists.grow(entries);
    this.hashes = grown(this.hashes, new Int32Array(entries));
    this.at = grown(this.at, new Float64Array(entries));
    this.addr = grown(this.addr, new Uint32Array(entries));
    this.keyLength = grown(this.keyLength, new Int32Array(entries));
    this.valueLength = grown(this.valueLength, new Int32Array(entries));
    this.etag = grown(this.etag, new Int32Array(entries * 2));
    this.#free = grown(this.#free, new Int32Array(entries));
  }

  #sameBytes(e: number, bytes: Uint8Array, offset: number, length: number): boolean {
    const page = this.arena.bytes[Arena.page(this.addr[e]!)]!;
    const start = Arena.payload(this.addr[e]!);
    for (let i = 0; i < length; i++) if (page[start + i] !== bytes[offset + i]) return false;
    return true;
  }

  #sameString(e: number, key: string): boolean {
    const page = this.arena.bytes[Arena.page(this.addr[e]!)]!;
    const start = Arena.payload(this.addr[e]!);
    for (let i = 0; i < key.length; i++) if (page[start + i] !== (key.charCodeAt(i) & 0xff)) return false;
    return true;
  }
}

function grown<T extends Int32Array | Uint32Array | Float64Array>(old: T, bigger: T): T {
  bigger.set(old as never);
  return bigger;
}
