/**
 * The store's per-entry metadata: one record of `STRIDE` 32-bit words per
 * entry number in a single Int32Array, so everything a hit reads about an
 * entry (key length, value length, address, fetch time, ETag, links) lies in
 * one half of a cache line. With a million entries the hot keys are spread
 * over the whole array, and a hit pays for the lines it touches: one record
 * instead of one line per field.
 *
 * | word | holds |
 * | --- | --- |
 * | `TAG_LENGTH` | key length (bits 0–16), policy flags (17–22), `TYPED` (23), the top 8 bits of the key's hash (24–31) |
 * | `VALUE_LENGTH` | value length, or `ABSENT` for a negative entry |
 * | `ADDR` | the arena block holding key then value |
 * | `NEXT`, `PREV` | recency links (`Lists`); `NEXT` also chains free records |
 * | `AT` | fetch time, whole ms since the store's epoch (`Store` moves the epoch before it overflows) |
 * | `ETAG_HIGH`, `ETAG_LOW` | the value's ETag words |
 * | `EXPIRES` | when the key expires in Redis (its TTL as read with the value), ms since the epoch as `AT`; `NO_EXPIRY` for none |
 *
 * The full hash is not kept: comparing the 8-bit tag and the length skips
 * all but 1 in 256 of the other keys a probe meets, and the index recomputes
 * a hash from the key bytes on the rare occasions it moves an entry.
 */

/** Words per record: 36 bytes. */
export const STRIDE = 9;
export const TAG_LENGTH = 0;
export const VALUE_LENGTH = 1;
export const ADDR = 2;
export const NEXT = 3;
export const PREV = 4;
export const AT = 5;
export const ETAG_HIGH = 6;
export const ETAG_LOW = 7;
export const EXPIRES = 8;
/** `EXPIRES` of a key without a TTL: int32's largest, later than any stamp (`Store` rebases before 2^30). */
export const NO_EXPIRY = 0x7fffffff;
/** Key lengths take the low 17 bits of `TAG_LENGTH` (keys up to 65,536 bytes, MAX_KEY_BYTES's largest). */
export const KEY_LENGTH_MASK = 0x1ffff;
/** The tag bits of `TAG_LENGTH`. */
export const TAG_MASK = 0xff000000 | 0;
/** Flag bits of `TAG_LENGTH` free for a policy (bits 17–22). */
export const FLAG_SHIFT = 17;
/** `TAG_LENGTH` bit 23: the value is a typed value (`typed-value.ts`: a hash, list, set, zset), not a string's bytes. */
export const TYPED = 1 << 23;

/** The `TAG_LENGTH` word of a key with `hash` and `length`, no flags. */
export function tagLength(hash: number, length: number): number {
  return (hash & TAG_MASK) | length;
}

/** The records, growable by doubling (the store sizes them up to its capacity). */
export class Entries {
  words: Int32Array;

  constructor(count: number) {
    this.words = new Int32Array(count * STRIDE);
  }

  /** Records held. */
  get count(): number {
    return this.words.length / STRIDE;
  }

  /** Moves the `AT` and `EXPIRES` stamps of records `from` … `to - 1` back by `shift` ms, clamped at int32's least value. */
  shiftStamps(from: number, to: number, shift: number): void {
    const m = this.words;
    for (let e = from; e < to; e++) {
      m[e * STRIDE + AT] = Math.max(-(2 ** 31), m[e * STRIDE + AT]! - shift);
      if (m[e * STRIDE + EXPIRES] !== NO_EXPIRY) m[e * STRIDE + EXPIRES] = Math.max(-(2 ** 31), m[e * STRIDE + EXPIRES]! - shift);
    }
  }

  /** Makes room for `count` records, keeping the ones there. */
  grow(count: number): void {
    const words = new Int32Array(count * STRIDE);
    words.set(this.words);
    this.words = words;
  }
}
