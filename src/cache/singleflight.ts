/**
 * Request coalescing: while one fetch of a key is in flight, later misses of
 * the same key wait for it instead of starting their own. Twenty clients
 * missing one hot key cost Redis one GET, not twenty.
 *
 * The class only keeps the books; starting the fetch and answering the
 * waiters is the caller's, so it holds no promises and works the same for any
 * kind of fetch.
 */
export class Flights<W> {
  readonly #waiting = new Map<string, W[]>();
  /** Waiters that joined a flight another waiter had started (the misses coalescing saved). */
  coalesced = 0;

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
    this.coalesced++;
    return false;
  }

  /** Ends the flight for `key` and returns its waiters (empty when there was none). */
  land(key: string): W[] {
    const waiters = this.#waiting.get(key);
    if (waiters === undefined) return [];
    this.#waiting.delete(key);
    return waiters;
  }

  /** Number of keys with a fetch in flight. */
  get size(): number {
    return this.#waiting.size;
  }
}
