/**
 * A fixed-capacity least-recently-used cache with one global time-to-live,
 * checked lazily on read.
 *
 * Entries live in preallocated slots; the recency list is a circular
 * doubly-linked list threaded through two typed arrays (`next`, `prev`), with
 * slot `capacity` as the sentinel. Nothing is allocated per operation except
 * the Map entry for a new key, so the garbage collector sees the cache as a
 * handful of long-lived arrays however many keys churn through it.
 *
 * | operation | time |
 * | --------- | ---- |
 * | `get`     | O(1): one Map lookup, one unlink/relink |
 * | `set`     | O(1): one Map lookup, at most one eviction |
 * | `delete`  | O(1) |
 * | `clear`   | O(capacity) for the slot arrays, O(size) for the Map |
 */
export interface LRUOptions<V = unknown> {
  /**
   * How many entries the cache holds before it evicts the least recently
   * read one. Counted in keys, not bytes: memory use is `capacity` times the
   * typical value size. Slots are preallocated, so a huge capacity costs
   * about 20 bytes of typed arrays per slot even while the cache is empty.
   * 0 disables caching (every `set` is dropped).
   */
  capacity: number;
  /**
   * How long an entry may be served after it was inserted, in the same unit
   * as the `now` arguments (milliseconds in the proxy). Expiry is lazy: an
   * expired entry keeps its slot until it is read (then it is removed and
   * reported as absent) or until it is the least recently used entry and
   * gets evicted. Lazy expiry costs no timers and no background sweeps, at
   * the price of holding expired values in memory while nobody asks for them.
   */
  ttl: number;
  /**
   * How long past its TTL an expired entry is kept for `stale` (serving it
   * while the backing store fails, like HTTP's stale-if-error). 0, the
   * default, removes an entry on the first read past its TTL.
   */
  grace?: number;
  /** Size of a value (bytes, for the proxy); summed in `bytes`. Without it `bytes` stays 0. */
  weigh?: (value: V) => number;
  /**
   * Most `bytes` the cache holds (needs `weigh`): beyond it the least
   * recently used entries are evicted, as for `capacity`. The two bounds
   * answer different failures: `capacity` keeps the bookkeeping bounded when
   * values are small, `maxBytes` keeps memory bounded when values are large
   * (Varnish's `-s malloc,<size>`, Redis's `maxmemory` with an LRU policy).
   * A value heavier than `maxBytes` on its own is not kept at all. Default:
   * no limit besides `capacity`.
   */
  maxBytes?: number;
}

/** The cache itself; see the file comment for the layout and costs. */
export class LRU<V> {
  /** Maximum number of entries. */
  readonly capacity: number;
  /** Time-to-live of every entry, counted from its insertion. */
  readonly ttl: number;
  /** Entries removed because they were the least recently used when a new key needed a slot. */
  evicted = 0;
  /** Reads that found their entry past its TTL (removed, or kept for `stale` within the grace). */
  expired = 0;
  /** Sum of `weigh` over the entries held. */
  bytes = 0;
  /** Most `bytes` held; see `LRUOptions.maxBytes`. */
  readonly maxBytes: number;
  readonly #grace: number;
  readonly #weigh: ((value: V) => number) | undefined;

  readonly #index = new Map<string, number>();
  readonly #keys: (string | undefined)[];
  readonly #values: (V | undefined)[];
  readonly #insertedAt: Float64Array;
  readonly #next: Uint32Array;
  readonly #prev: Uint32Array;
  /** Slots never used or freed by `delete`, as a stack. */
  readonly #free: Uint32Array;
  #freeTop = 0;

  constructor(options: LRUOptions<V>) {
    const { capacity, ttl } = options;
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`capacity must be a non-negative integer, got ${capacity}`);
    if (!(ttl >= 0)) throw new RangeError(`ttl must be a non-negative number, got ${ttl}`);
    if (!((options.grace ?? 0) >= 0)) throw new RangeError(`grace must be a non-negative number, got ${options.grace}`);
    this.capacity = capacity;
    this.ttl = ttl;
    this.#grace = options.grace ?? 0;
    this.#weigh = options.weigh;
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    if (!(this.maxBytes >= 0)) throw new RangeError(`maxBytes must be a non-negative number, got ${options.maxBytes}`);
    this.#keys = new Array<string | undefined>(capacity).fill(undefined);
    this.#values = new Array<V | undefined>(capacity).fill(undefined);
    this.#insertedAt = new Float64Array(capacity);
    this.#next = new Uint32Array(capacity + 1);
    this.#prev = new Uint32Array(capacity + 1);
    this.#free = new Uint32Array(capacity);
    this.clear();
  }

  /** Number of entries held, expired ones included until they are read or evicted. */
  get size(): number {
    return this.#index.size;
  }

  /**
   * Returns the value of `key` and marks it most recently used, or
   * `undefined` when the key is absent or has expired (an expired entry is
   * removed here).
   */
  get(key: string, now: number): V | undefined {
    const slot = this.#index.get(key);
    if (slot === undefined) return undefined;
    const age = now - this.#insertedAt[slot]!;
    if (age >= this.ttl) {
      this.expired++;
      if (age >= this.ttl + this.#grace) this.#remove(key, slot);
      return undefined;
    }
    this.#unlink(slot);
    this.#linkFront(slot);
    return this.#values[slot];
  }

  /**
   * Returns the value of `key` even if it has expired, as long as it is
   * within the grace period; does not change recency. For serving a stale
   * value when a refresh failed.
   */
  stale(key: string, now: number): V | undefined {
    const slot = this.#index.get(key);
    if (slot === undefined || now - this.#insertedAt[slot]! >= this.ttl + this.#grace) return undefined;
    return this.#values[slot];
  }

  /**
   * Inserts or replaces `key`, stamped with `now`, as the most recently used
   * entry; evicts least recently used entries while the cache is over
   * `capacity` or `maxBytes`. A value over `maxBytes` by itself is not kept,
   * and an older value of `key` is removed: it would be stale.
   */
  set(key: string, value: V, now: number): void {
    if (this.capacity === 0) return;
    const weight = this.#weigh === undefined ? 0 : this.#weigh(value);
    if (weight > this.maxBytes) {
      this.delete(key);
      return;
    }
    let slot = this.#index.get(key);
    if (slot !== undefined) {
      this.#unlink(slot);
      if (this.#weigh !== undefined) this.bytes -= this.#weigh(this.#values[slot]!);
    } else {
      if (this.#freeTop === 0) {
        const oldest = this.#prev[this.capacity]!;
        this.evicted++;
        this.#remove(this.#keys[oldest]!, oldest);
      }
      slot = this.#free[--this.#freeTop]!;
      this.#index.set(key, slot);
      this.#keys[slot] = key;
    }
    this.#values[slot] = value;
    this.bytes += weight;
    this.#insertedAt[slot] = now;
    this.#linkFront(slot);
    // The new entry is at the front and fits alone, so this stops before it.
    while (this.bytes > this.maxBytes) {
      const oldest = this.#prev[this.capacity]!;
      this.evicted++;
      this.#remove(this.#keys[oldest]!, oldest);
    }
  }

  /** Removes `key`; returns whether it was present. */
  delete(key: string): boolean {
    const slot = this.#index.get(key);
    if (slot === undefined) return false;
    this.#remove(key, slot);
    return true;
  }

  /** Removes every entry. */
  clear(): void {
    const sentinel = this.capacity;
    this.#index.clear();
    this.bytes = 0;
    this.#keys.fill(undefined);
    this.#values.fill(undefined);
    this.#next[sentinel] = sentinel;
    this.#prev[sentinel] = sentinel;
    for (let i = 0; i < this.capacity; i++) this.#free[i] = this.capacity - 1 - i;
    this.#freeTop = this.capacity;
  }

  /** Keys from most to least recently used; for tests and debugging, O(size). */
  keys(): string[] {
    const out: string[] = [];
    for (let s = this.#next[this.capacity]!; s !== this.capacity; s = this.#next[s]!) out.push(this.#keys[s]!);
    return out;
  }

  #remove(key: string, slot: number): void {
    this.#index.delete(key);
    this.#unlink(slot);
    if (this.#weigh !== undefined) this.bytes -= this.#weigh(this.#values[slot]!);
    this.#keys[slot] = undefined;
    this.#values[slot] = undefined; // let the value be collected now, not when the slot is reused
    this.#free[this.#freeTop++] = slot;
  }

  #unlink(slot: number): void {
    const next = this.#next[slot]!;
    const prev = this.#prev[slot]!;
    this.#next[prev] = next;
    this.#prev[next] = prev;
  }

  #linkFront(slot: number): void {
    const sentinel = this.capacity;
    const first = this.#next[sentinel]!;
    this.#next[slot] = first;
    this.#prev[slot] = sentinel;
    this.#prev[first] = slot;
    this.#next[sentinel] = slot;
  }
}
