/**
 * Request coalescing: while one fetch of a key is in flight, later misses of
 * the same key wait for it instead of starting their own. Twenty clients
 * missing one hot key cost Redis one GET, not twenty.
 *
 * The class only keeps the books; starting the fetch and answering the
 * waiters is the caller's, so it holds no promises and works the same for any
 * kind of fetch.
 *
 * A flight can be poisoned while it is in the air: the key changed after the
 * fetch was sent (an invalidation arrived before the reply did), so the
 * reply may predate the change. Its waiters still get it, since they asked
 * before the change; the cache must not keep it.
 */
export class Flights<W> {
  readonly #waiting = new Map<string, W[]>();
  /** Keys whose flight in the air was poisoned; empty nearly always, so `land` pays one size check. */
  readonly #poisoned = new Set<string>();

  /**
   * Adds `waiter` to the flight for `key`. Returns `true` when there was no
   * flight yet: the caller must then start the fetch and call `land` when it
   * completes.
   */
  join(key: string, waiter: W): boolean {
    const waiters = this.#waiting.get(key);
    if (waiters === undefined) {
      this.#waiting.set(key, [waiter]);
      return true;
    }
    waiters.push(waiter);
    return false;
  }

  /**
   * Ends the flight for `key` and returns its waiters (empty when there was
   * none). Call `poisoned(key)` first to learn whether the reply may be kept.
   */
  land(key: string): W[] {
    const waiters = this.#waiting.get(key);
    if (waiters === undefined) return [];
    this.#waiting.delete(key);
    if (this.#poisoned.size > 0) this.#poisoned.delete(key);
    return waiters;
  }

  /** Marks the flight of `key`, if one is in the air, as not to be cached when it lands. */
  poison(key: string): void {
    if (this.#waiting.has(key)) this.#poisoned.add(key);
  }

  /** Poisons every flight in the air (the whole cache was invalidated). */
  poisonAll(): void {
    for (const key of this.#waiting.keys()) this.#poisoned.add(key);
  }

  /** Whether the flight of `key` was poisoned since it started. */
  poisoned(key: string): boolean {
    return this.#poisoned.size > 0 && this.#poisoned.has(key);
  }

  /** Whether a fetch of `key` is in flight. */
  has(key: string): boolean {
    return this.#waiting.has(key);
  }

  /** Number of keys with a fetch in flight. */
  get size(): number {
    return this.#waiting.size;
  }
}
