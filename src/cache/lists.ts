/**
 * Doubly-linked recency lists threaded through two Int32Arrays, for entries
 * numbered from `LISTS` up: entry numbers 0 … LISTS-1 are the lists'
 * sentinels, so every list is circular and no operation tests for an end.
 * An LRU uses one list; W-TinyLFU uses three (window, probation, protected).
 * All operations are O(1) and allocate nothing; `grow` copies the arrays
 * when the store adds entry numbers.
 */

/** Sentinels at the start of the entry numbers: at most this many lists. */
export const LISTS = 4;

/** See the file comment. */
export class Lists {
  next: Int32Array;
  prev: Int32Array;
  /** Entries on each list. */
  readonly length = new Int32Array(LISTS);

  constructor(entries: number) {
    this.next = new Int32Array(entries);
    this.prev = new Int32Array(entries);
    this.clear();
  }

  /** Makes room for entry numbers below `entries`. */
  grow(entries: number): void {
    const next = new Int32Array(entries);
    next.set(this.next);
    this.next = next;
    const prev = new Int32Array(entries);
    prev.set(this.prev);
    this.prev = prev;
  }

  /** Empties every list. */
  clear(): void {
    for (let l = 0; l < LISTS; l++) {
      this.next[l] = l;
      this.prev[l] = l;
    }
    this.length.fill(0);
  }

  /** The most recent entry of `list`, or `list` itself when it is empty. */
  first(list: number): number {
    return this.next[list]!;
  }

  /** The least recent entry of `list`, or `list` itself when it is empty. */
  last(list: number): number {
    return this.prev[list]!;
  }

  /** Puts `entry` (on no list) at the front of `list`. */
  pushFront(list: number, entry: number): void {
    const first = this.next[list]!;
    this.next[entry] = first;
    this.prev[entry] = list;
    this.prev[first] = entry;
    this.next[list] = entry;
    this.length[list]!++;
  }

  /** Takes `entry` off `list`. */
  unlink(list: number, entry: number): void {
    const next = this.next[entry]!;
    const prev = this.prev[entry]!;
    this.next[prev] = next;
    this.prev[next] = prev;
    this.length[list]!--;
  }

  /** Moves `entry`, on `list`, to its front. */
  moveFront(list: number, entry: number): void {
    if (this.next[list] === entry) return;
    this.unlink(list, entry);
    this.pushFront(list, entry);
  }
}
