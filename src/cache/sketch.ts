/**
 * How often each key was asked for, recently: the frequency estimate behind
 * W-TinyLFU's admission (Einziger, Friedman and Manes, "TinyLFU: A Highly
 * Efficient Cache Admission Policy", 2017; as Caffeine's FrequencySketch).
 *
 * - A count-min sketch of 4 rows of 4-bit counters (eight to an Int32
 *   word), `width` counters per row, the next power of two at or above the
 *   cache's capacity. A key's counters are picked by four re-mixes of its
 *   32-bit hash; its estimate is the least of them, so it is never below
 *   the true count (up to the cap of 15) and exceeds it by more than
 *   e·N/width (N: additions since the last halving) with probability at
 *   most e^-4 ≈ 1.8% (Cormode and Muthukrishnan).
 * - A doorkeeper (a Bloom filter of 8 × `width` bits, two bits per key)
 *   takes a key's first occurrence, so the one-hit wonders of a scan never
 *   reach the counters; an estimate adds 1 when the doorkeeper holds the
 *   key. It is emptied whenever half of its bits are set, which holds its
 *   false positives under 25% even during a long scan (a key whose first
 *   occurrence was forgotten that way is undercounted by one). Offline, on
 *   the scan trace of `npm run bench` (capacity 100k), emptying it at a
 *   half, a quarter, an eighth and a sixteenth full gave 73.9%, 74.9%,
 *   74.5% and 74.6% of the trace's zipf requests as hits, and no doorkeeper
 *   73.3%; but at a quarter, test/tinylfu.test.ts's scan (capacity 1,000)
 *   kept 38% of the hot hits instead of 93%, so it empties at a half.
 * - Aging: after `10 × capacity` additions every counter is halved and the
 *   doorkeeper emptied, so the sketch follows a changing popularity.
 *
 * Increments and estimates are O(1) and allocate nothing; the sketch costs
 * 3 bytes per capacity slot (`bytes`).
 */
import { mix } from './key-hash.js';

const SEEDS = [0x97cb3127, 0xb71c5c5d, 0x3f8a56e1, 0x6f4d3b25] as const;
/** 0x7 in every 4-bit counter: what is left of a word after shifting it right by one. */
const HALF_MASK = 0x77777777;

/** See the file comment. */
export class FrequencySketch {
  /** Counters per row. */
  readonly width: number;
  /** Additions between two halvings. */
  readonly sampleSize: number;
  /** Additions since the last halving. */
  additions = 0;
  /** Halvings so far. */
  resets = 0;
  readonly #table: Int32Array;
  readonly #rowWords: number;
  readonly #door: Int32Array;
  readonly #doorBits: number;
  /** Bits set in the doorkeeper (a new key sets at most two). */
  #doorSet = 0;

  constructor(capacity: number) {
    this.width = 2 ** Math.max(4, Math.ceil(Math.log2(Math.max(1, capacity))));
    this.sampleSize = 10 * Math.max(1, capacity);
    this.#rowWords = this.width / 8;
    this.#table = new Int32Array(4 * this.#rowWords);
    this.#doorBits = 8 * this.width;
    this.#door = new Int32Array(this.#doorBits / 32);
  }

  /** Bytes the counters and the doorkeeper take. */
  get bytes(): number {
    return this.#table.byteLength + this.#door.byteLength;
  }

  /** Counts one occurrence of the key with `hash`. */
  increment(hash: number): void {
    if (!this.#doorHas(hash)) this.#doorAdd(hash);
    else {
      const t = this.#table;
      for (let row = 0; row < 4; row++) {
        const c = mix(hash ^ SEEDS[row]!) & (this.width - 1);
        const word = row * this.#rowWords + (c >>> 3);
        const shift = (c & 7) << 2;
        if (((t[word]! >>> shift) & 15) < 15) t[word]! += 1 << shift;
      }
    }
    if (++this.additions >= this.sampleSize) this.#halve();
  }

  /** The estimated occurrences of the key with `hash` since it aged out (0 to 16). */
  frequency(hash: number): number {
    const t = this.#table;
    let least = 15;
    for (let row = 0; row < 4; row++) {
      const c = mix(hash ^ SEEDS[row]!) & (this.width - 1);
      const count = (t[row * this.#rowWords + (c >>> 3)]! >>> ((c & 7) << 2)) & 15;
      if (count < least) least = count;
    }
    return least + (this.#doorHas(hash) ? 1 : 0);
  }

  /** Forgets everything. */
  clear(): void {
    this.#table.fill(0);
    this.#door.fill(0);
    this.#doorSet = 0;
    this.additions = 0;
  }

  #halve(): void {
    const t = this.#table;
    for (let i = 0; i < t.length; i++) t[i] = (t[i]! >>> 1) & HALF_MASK;
    this.#door.fill(0);
    this.#doorSet = 0;
    this.additions = this.additions >>> 1;
    this.resets++;
  }

  #doorHas(hash: number): boolean {
    const a = hash & (this.#doorBits - 1);
    const b = mix(hash) & (this.#doorBits - 1);
    return ((this.#door[a >>> 5]! >>> (a & 31)) & 1 & (this.#door[b >>> 5]! >>> (b & 31))) === 1;
  }

  #doorAdd(hash: number): void {
    if (this.#doorSet * 2 >= this.#doorBits) {
      this.#door.fill(0);
      this.#doorSet = 0;
    }
    this.#setBit(hash & (this.#doorBits - 1));
    this.#setBit(mix(hash) & (this.#doorBits - 1));
  }

  #setBit(bit: number): void {
    const mask = 1 << (bit & 31);
    if ((this.#door[bit >>> 5]! & mask) === 0) {
      this.#door[bit >>> 5]! |= mask;
      this.#doorSet++;
    }
  }
}
