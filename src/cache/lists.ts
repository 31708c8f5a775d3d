/**
 * Doubly-linked recency lists threaded through the store's entry records,
 * for entries numbered from `LISTS` up: entry numbers 0 … LISTS-1 are the
 * lists' sentinels, so every list is circular and no operation tests for an
 * end. An LRU uses one list; W-TinyLFU uses three (window, probation,
 * protected). All operations are O(1) and allocate nothing.
 *
 * The links live inside each entry's record (`Entries`), beside the rest of
 * its metadata, so relinking a hit touches the cache lines it already reads.
 */
import { type Entries, NEXT, PREV, STRIDE } from './entries.js';

/** Sentinels at the start of the entry numbers: at most this many lists. */
export const LISTS = 4;

/** See the file comment. */
export class Lists {
  /** Entries on each list. */
  readonly length = new Int32Array(LISTS);
  readonly #entries: Entries;

  constructor(entries: Entries) {
    this.#entries = entries;
    this.clear();
  }

  /** Empties every list. */
  clear(): void {
    const m = this.#entries.words;
    for (let l = 0; l < LISTS; l++) {
      m[l * STRIDE + NEXT] = l;
      m[l * STRIDE + PREV] = l;
    }
    this.length.fill(0);
  }

  /** The most recent entry of `list`, or `list` itself when it is empty. */
  first(list: number): number {
    return this.#entries.words[list * STRIDE + NEXT]!;
  }

  /** The least recent entry of `list`, or `list` itself when it is empty. */
  last(list: number): number {
    return this.#entries.words[list * STRIDE + PREV]!;
  }

  /** The entry after `entry` on its list (toward the least recent). */
  next(entry: number): number {
    return this.#entries.words[entry * STRIDE + NEXT]!;
  }

  /** The entries of `list` from most to least recent; for tests and debugging, O(length). */
  entries(list: number): number[] {
    const out: number[] = [];
    for (let e = this.first(list); e !== list; e = this.next(e)) out.push(e);
    return out;
  }

  /** Puts `entry` (on no list) at the front of `list`. */
  pushFront(list: number, entry: number): void {
    const m = this.#entries.words;
    const first = m[list * STRIDE + NEXT]!;
    m[entry * STRIDE + NEXT] = first;
    m[entry * STRIDE + PREV] = list;
    m[first * STRIDE + PREV] = entry;
    m[list * STRIDE + NEXT] = entry;
    this.length[list]!++;
  }

  /** Takes `entry` off `list`. */
  unlink(list: number, entry: number): void {
    const m = this.#entries.words;
    const next = m[entry * STRIDE + NEXT]!;
    const prev = m[entry * STRIDE + PREV]!;
    m[prev * STRIDE + NEXT] = next;
    m[next * STRIDE + PREV] = prev;
    this.length[list]!--;
  }

  /** Moves `entry`, on `list`, to its front. */
  moveFront(list: number, entry: number): void {
    if (this.#entries.words[list * STRIDE + NEXT] === entry) return;
    this.unlink(list, entry);
    this.pushFront(list, entry);
  }
}
