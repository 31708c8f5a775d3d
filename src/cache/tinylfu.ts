/**
 * W-TinyLFU (Einziger, Friedman and Manes, 2017), as Caffeine does it: a
 * small LRU window in front of a segmented LRU main space, and an admission
 * filter between them driven by a frequency sketch.
 *
 * - A new entry enters the window (1% of the capacity). What the window
 *   pushes out moves to the main space's probation segment as a candidate.
 * - A hit in probation promotes the entry to the protected segment (80% of
 *   the main space); what protected pushes out goes back to probation's
 *   front.
 * - When room is needed and a candidate is waiting, the candidate (the most
 *   recent arrival in probation) duels probation's least recent entry: the
 *   one the sketch says was asked for less often goes, the candidate when
 *   they tie. Without a candidate, probation's least recent entry goes (then
 *   protected's, then the window's).
 *
 * So a key asked for once, or a scan of cold keys, passes through the
 * window and loses its duels, where a plain LRU would have evicted a hot
 * key for it. Every operation is O(1): a few list moves and, on eviction,
 * two sketch estimates of hashes recomputed from the key bytes.
 */
import type { Policy } from './policy.js';
import { segmentOf, setSegment } from './policy.js';
import type { Lists } from './lists.js';
import type { FrequencySketch } from './sketch.js';

/** The lists W-TinyLFU uses (list 0 is LRU's). */
export const WINDOW = 1;
export const PROBATION = 2;
export const PROTECTED = 3;

export interface TinyLfuOptions {
  lists: Lists;
  /** The store's records, where each entry's segment is kept. */
  words: () => Int32Array;
  /** The recomputed hash of an entry's key. */
  hashOf: (e: number) => number;
  sketch: FrequencySketch;
  /** Entries the store holds at most. */
  capacity: number;
}

/** See the file comment. */
export class TinyLfuPolicy implements Policy {
  /** The window's share of the capacity: at least one entry. */
  readonly windowMax: number;
  /** The protected segment's share of the main space. */
  readonly protectedMax: number;
  /** Window entries the last insert moved to probation, not yet through a duel. */
  #candidates = 0;
  readonly #o: TinyLfuOptions;

  constructor(options: TinyLfuOptions) {
    this.#o = options;
    this.windowMax = Math.max(1, Math.floor(options.capacity / 100));
    this.protectedMax = Math.floor((options.capacity - this.windowMax) * 0.8);
  }

  get bytes(): number {
    return this.#o.sketch.bytes;
  }

  access(hash: number): void {
    this.#o.sketch.increment(hash);
  }

  hit(e: number): void {
    const { lists } = this.#o;
    const words = this.#o.words();
    const segment = segmentOf(words, e);
    if (segment !== PROBATION) {
      lists.moveFront(segment, e);
      return;
    }
    lists.unlink(PROBATION, e);
    lists.pushFront(PROTECTED, e);
    setSegment(words, e, PROTECTED);
    if (lists.length[PROTECTED]! > this.protectedMax) {
      const demoted = lists.last(PROTECTED);
      lists.unlink(PROTECTED, demoted);
      lists.pushFront(PROBATION, demoted);
      setSegment(words, demoted, PROBATION);
    }
  }

  insert(e: number): void {
    const { lists } = this.#o;
    const words = this.#o.words();
    lists.pushFront(WINDOW, e);
    setSegment(words, e, WINDOW);
    // Candidates are this insert's arrivals in probation (Caffeine counts them per maintenance run).
    this.#candidates = 0;
    while (lists.length[WINDOW]! > this.windowMax) {
      const out = lists.last(WINDOW);
      lists.unlink(WINDOW, out);
      lists.pushFront(PROBATION, out);
      setSegment(words, out, PROBATION);
      this.#candidates++;
    }
  }

  remove(e: number): void {
    this.#o.lists.unlink(segmentOf(this.#o.words(), e), e);
  }

  /**
   * As Caffeine counts them, candidates are a number, not marked entries:
   * each duel spends one, and the candidate is whatever is at probation's
   * front then (a recent arrival from the window, or now and then an entry
   * protected pushed back).
   */
  victim(): number {
    const { lists, sketch, hashOf } = this.#o;
    if (this.#candidates > 0 && lists.length[PROBATION]! >= 2) {
      this.#candidates--;
      const candidate = lists.first(PROBATION);
      const victim = lists.last(PROBATION);
      return sketch.frequency(hashOf(candidate)) > sketch.frequency(hashOf(victim)) ? victim : candidate;
    }
    if (lists.length[PROBATION]! > 0) return lists.last(PROBATION);
    if (lists.length[PROTECTED]! > 0) return lists.last(PROTECTED);
    return lists.last(WINDOW);
  }

  order(): number[] {
    const { lists } = this.#o;
    return [...lists.entries(WINDOW), ...lists.entries(PROTECTED), ...lists.entries(PROBATION)];
  }

  clear(): void {
    this.#candidates = 0;
    this.#o.sketch.clear();
  }
}
