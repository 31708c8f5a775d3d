/**
 * Reading an entry of the store by its number: its value's bytes where they
 * lie in the arena, its age, its ETag. What a reply needs, without a copy
 * until the reply writer makes its own. `Store` extends it.
 */
import { Arena } from './arena.js';
import {
  ADDR,
  AT,
  type Entries,
  ETAG_HIGH,
  ETAG_LOW,
  EXPIRES,
  KEY_LENGTH_MASK,
  NO_EXPIRY,
  STRIDE,
  TAG_LENGTH,
  TYPED,
  VALUE_LENGTH,
} from './entries.js';

/** Value length of a negative entry: the key is known to be absent. */
export const ABSENT = -1;
/** A remaining life meaning "no TTL in Redis" (`lifeMs`, and the fetches' lives). */
export const NO_LIFE = -1;

/** See the file comment. */
export class EntryView {
  /** `AT` stamps count whole ms from here (`Store` moves it on). */
  protected epoch = 0;

  constructor(
    readonly arena: Arena,
    readonly entries: Entries,
  ) {}

  /** How long ago entry `e` was fetched, in ms (whole ms of its stamp: up to 1 ms more than exact). */
  age(e: number, now: number): number {
    return now - this.epoch - this.entries.words[e * STRIDE + AT]!;
  }

  /** Ms until entry `e`'s key expires in Redis (0 once it has), or `NO_LIFE` when it has no TTL. */
  lifeMs(e: number, now: number): number {
    const expires = this.entries.words[e * STRIDE + EXPIRES]!;
    return expires === NO_EXPIRY ? NO_LIFE : Math.max(0, expires - (now - this.epoch));
  }

  /** Whether entry `e`'s key has expired in Redis by `now`: the entry is gone, not stale. */
  protected expiredInRedis(e: number, now: number): boolean {
    return now - this.epoch >= this.entries.words[e * STRIDE + EXPIRES]!;
  }

  /** Entry `e`'s value length, or `ABSENT`. */
  valueLength(e: number): number {
    return this.entries.words[e * STRIDE + VALUE_LENGTH]!;
  }

  /** Whether entry `e` holds a typed value (a hash, list, set or sorted set: `typed-value.ts`) rather than a string. */
  typed(e: number): boolean {
    return (this.entries.words[e * STRIDE + TAG_LENGTH]! & TYPED) !== 0;
  }

  /** Marks entry `e`, just set, as holding a typed value. */
  markTyped(e: number): void {
    this.entries.words[e * STRIDE + TAG_LENGTH]! |= TYPED;
  }

  /** Entry `e`'s ETag words. */
  etagHigh(e: number): number {
    return this.entries.words[e * STRIDE + ETAG_HIGH]!;
  }

  etagLow(e: number): number {
    return this.entries.words[e * STRIDE + ETAG_LOW]!;
  }

  /** The page holding entry `e`'s bytes: its value is `page[valueStart(e), valueStart(e) + valueLength(e))`. */
  page(e: number): Buffer {
    return this.arena.bytes[Arena.page(this.entries.words[e * STRIDE + ADDR]! >>> 0)]!;
  }

  /** Where entry `e`'s value starts in `page(e)`. */
  valueStart(e: number): number {
    const m = this.entries.words;
    return Arena.payload(m[e * STRIDE + ADDR]! >>> 0) + (m[e * STRIDE + TAG_LENGTH]! & KEY_LENGTH_MASK);
  }

  /** Entry `e`'s value as a view into the arena (valid until the entry goes); empty for a negative entry. */
  value(e: number): Buffer {
    const start = this.valueStart(e);
    return this.page(e).subarray(start, start + Math.max(0, this.valueLength(e)));
  }

  /** Entry `e`'s key as a latin1 string. */
  key(e: number): string {
    const m = this.entries.words;
    const start = Arena.payload(m[e * STRIDE + ADDR]! >>> 0);
    return this.page(e).latin1Slice(start, start + (m[e * STRIDE + TAG_LENGTH]! & KEY_LENGTH_MASK));
  }
}
