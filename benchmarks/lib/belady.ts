/**
 * Belady's optimal offline policy: on a miss, cache the key unless it is read
 * again later than every cached key (or never), and evict the cached key whose
 * next read is farthest away. No
 * policy hits more often on the same requests, so its hit ratio is the ceiling
 * a hit-ratio bar can ask for, beside what LRU and W-TinyLFU reach.
 */

const NEVER = 0x7fffffff;

/** Whether each read of `keys` (key indexes, in order) is a hit for a cache of `capacity` keys. */
export function optimalHits(keys: Uint32Array, capacity: number): Uint8Array {
  const n = keys.length;
  const next = new Int32Array(n);
  const seen = new Map<number, number>();
  for (let i = n - 1; i >= 0; i--) {
    next[i] = seen.get(keys[i]!) ?? NEVER;
    seen.set(keys[i]!, i);
  }
  const hits = new Uint8Array(n);
  if (capacity <= 0) return hits;
  // Cached key → its next read; a max-heap of (next read, key) with stale pairs skipped when popped.
  const cached = new Map<number, number>();
  const heap = new MaxHeap();
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    if (cached.has(key)) hits[i] = 1;
    else if (next[i] === NEVER) continue;
    else if (cached.size >= capacity) {
      // Drop the pairs of keys since read again or evicted: the top is then the farthest next read.
      while (cached.get(heap.topValue()) !== heap.topAt()) heap.pop();
      // A key read again later than everything cached is better not cached.
      if (heap.topAt() <= next[i]!) continue;
      cached.delete(heap.pop()[1]);
    }
    if (next[i] === NEVER) cached.delete(key);
    else {
      cached.set(key, next[i]!);
      heap.push(next[i]!, key);
    }
  }
  return hits;
}

/** A binary max-heap of (priority, value) pairs in two growable arrays. */
class MaxHeap {
  readonly #at: number[] = [];
  readonly #value: number[] = [];

  push(at: number, value: number): void {
    let i = this.#at.length;
    this.#at.push(at);
    this.#value.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#at[parent]! >= at) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  topAt(): number {
    return this.#at[0]!;
  }

  topValue(): number {
    return this.#value[0]!;
  }

  pop(): [number, number] {
    const top: [number, number] = [this.#at[0]!, this.#value[0]!];
    const lastAt = this.#at.pop()!;
    const lastValue = this.#value.pop()!;
    if (this.#at.length > 0) {
      this.#at[0] = lastAt;
      this.#value[0] = lastValue;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        let m = i;
        if (l < this.#at.length && this.#at[l]! > this.#at[m]!) m = l;
        if (l + 1 < this.#at.length && this.#at[l + 1]! > this.#at[m]!) m = l + 1;
        if (m === i) break;
        this.#swap(i, m);
        i = m;
      }
    }
    return top;
  }

  #swap(a: number, b: number): void {
    [this.#at[a], this.#at[b]] = [this.#at[b]!, this.#at[a]!];
    [this.#value[a], this.#value[b]] = [this.#value[b]!, this.#value[a]!];
  }
}
