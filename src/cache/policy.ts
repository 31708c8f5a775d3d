/**
 * Which entry a store evicts: the eviction policy, over the store's recency
 * lists and records. `lru` (the default) keeps one list in recency order and
 * evicts its tail; `tinylfu` (W-TinyLFU, `tinylfu.ts`) admits newcomers to
 * the main space only when they are asked for more often than what they
 * would replace. Every method is O(1) and allocates nothing.
 */
import { FLAG_SHIFT, STRIDE, TAG_LENGTH } from './entries.js';
import type { Lists } from './lists.js';

/** The policies `EVICTION` names. */
export const EVICTIONS = ['lru', 'tinylfu'] as const;
export type Eviction = (typeof EVICTIONS)[number];

/** What the store asks of its policy. */
export interface Policy {
  /** A lookup of the key with `hash`, hit or miss (TinyLFU counts it). */
  access(hash: number): void;
  /** Entry `e` was read. */
  hit(e: number): void;
  /** Entry `e` is new. */
  insert(e: number): void;
  /** Entry `e` is going (evicted, deleted, expired). */
  remove(e: number): void;
  /** The entry to evict next (the store has at least one). */
  victim(): number;
  /** Entries from first to be kept to first to go; for tests and debugging. */
  order(): number[];
  /** Bytes of the policy's own state (the sketch). */
  readonly bytes: number;
  clear(): void;
}

/** Bits 17–18 of an entry's `TAG_LENGTH` word: the list it is on. */
const SEGMENT_MASK = 3 << FLAG_SHIFT;

/** The list entry `e` is on (0 for LRU's one list). */
export function segmentOf(words: Int32Array, e: number): number {
  return (words[e * STRIDE + TAG_LENGTH]! & SEGMENT_MASK) >>> FLAG_SHIFT;
}

/** Records that entry `e` is on `list`. */
export function setSegment(words: Int32Array, e: number, list: number): void {
  const r = e * STRIDE + TAG_LENGTH;
  words[r] = (words[r]! & ~SEGMENT_MASK) | (list << FLAG_SHIFT);
}

const RECENCY = 0;

/** Exact LRU: one list, a read moves an entry to the front, the tail goes. */
export class LruPolicy implements Policy {
  readonly bytes = 0;
  constructor(readonly lists: Lists) {}
  access(): void {}
  hit(e: number): void {
    this.lists.moveFront(RECENCY, e);
  }
  insert(e: number): void {
    this.lists.pushFront(RECENCY, e);
  }
  remove(e: number): void {
    this.lists.unlink(RECENCY, e);
  }
  victim(): number {
    return this.lists.last(RECENCY);
  }
  order(): number[] {
    return this.lists.entries(RECENCY);
  }
  clear(): void {}
}
