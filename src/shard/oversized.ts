/**
 * The keys a shard knows to be *oversized*: a typed read found their whole
 * value over MAX_VALUE_BYTES (or over what the store could hold), so it was
 * answered and not cached. Reading it whole again for the next command
 * would cost as much again, so the key is remembered (its kind and how long
 * it lives) and its typed commands are forwarded to Redis one by one
 * (`forward.ts`) instead.
 *
 * A marker is not a store entry, on purpose: the GET hit path in shard.ts
 * (measured at node:http's ceiling) then needs no check for it, and no
 * stale-if-error, early-refresh or eviction rule of the store can ever
 * serve, refresh or weigh a marker as if it were a value. What the store
 * gives entries for coherence the shard gives markers by hand: an
 * invalidation forgets the key's marker, a flush all of them, and a marker
 * lives no longer than the key in Redis nor than CACHE_TTL_MS, like any
 * entry. An expired marker is dropped when it is met.
 */

/** The most markers a shard keeps (see `Oversized`). */
export const OVERSIZED_CAP = 4096;

/** One oversized key: its kind, when the marker dies, and when the key dies in Redis. */
interface Marker {
  /** `Found.kind`: 0 a string, else a `Kind`. */
  kind: number;
  /** Clock time the marker is dropped at. */
  expires: number;
  /** Clock time the key expires in Redis; -1 without a TTL. */
  redisEnd: number;
}

/**
 * A bounded map of oversized keys. At most `cap` (4,096 by default) are
 * kept, the oldest recorded dropped first: each marker stands for a value
 * over MAX_VALUE_BYTES, so a few thousand of them are already far more
 * values than a shard could read whole at any rate worth caching, and the
 * bound keeps what a flood of distinct large keys can cost to a few hundred
 * kilobytes plus the key strings. A key dropped from the map only costs its
 * next command one whole read (today's behaviour), after which it is
 * remembered again. Insertion order is Map's own, so dropping the oldest
 * is O(1).
 */
export class Oversized {
  readonly #markers = new Map<string, Marker>();
  readonly #cap: number;
  /** Lives of the markers: CACHE_TTL_MS at most. */
  readonly #ttlMs: number;

  constructor(ttlMs: number, cap = OVERSIZED_CAP) {
    this.#ttlMs = ttlMs;
    this.#cap = cap;
  }

  /** Markers held, live or not yet met expired. */
  get size(): number {
    return this.#markers.size;
  }

  /**
   * Remembers `key` as oversized, of `kind`, read at `now` with `lifeMs`
   * left in Redis (negative: no TTL). A key recorded again moves to the
   * newest end.
   */
  remember(key: string, kind: number, lifeMs: number, now: number): void {
    const m = this.#markers;
    m.delete(key);
    if (m.size >= this.#cap) m.delete(m.keys().next().value!);
    const life = lifeMs < 0 ? this.#ttlMs : Math.min(lifeMs, this.#ttlMs);
    m.set(key, { kind, expires: now + life, redisEnd: lifeMs < 0 ? -1 : now + lifeMs });
  }

  /** `key`'s kind when it has a live marker at `now`, else -1 (an expired marker is dropped). */
  kind(key: string, now: number): number {
    const marker = this.#markers.get(key);
    if (marker === undefined) return -1;
    if (marker.expires <= now) {
      this.#markers.delete(key);
      return -1;
    }
    return marker.kind;
  }

  /** Ms `key` has left in Redis as of `now`, -1 without a TTL; only after `kind` found it live. */
  lifeMs(key: string, now: number): number {
    const end = this.#markers.get(key)?.redisEnd ?? -1;
    return end < 0 ? -1 : Math.max(0, Math.floor(end - now));
  }

  /** Forgets `key` (it changed in Redis, or was read again). */
  forget(key: string): void {
    if (this.#markers.size > 0) this.#markers.delete(key);
  }

  /** Forgets every key (a flush). */
  clear(): void {
    this.#markers.clear();
  }
}
