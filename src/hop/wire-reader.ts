/**
 * Reading the batch format of wire.ts (its file comment has the layout).
 */
import { ETAG_BYTES } from '../cache/etag.js';
import { Protocol } from './vocabulary.js';

/** `meta` bit 31: an ETag precedes the payload. */
export const HAS_ETAG = 0x80000000;
/** `meta` bit 30: a word with the key's remaining life in Redis follows the three words. */
export const HAS_LIFE = 0x40000000;
/**
 * `meta` bit 29 of a result: the value is a whole encoded reply (a typed
 * command's RESP bytes, a typed value's JSON), not a string's bytes. (Bit
 * 29 of a request is `RESP3_FLAG`.)
 */
export const ENCODED = 0x20000000;
/** The bits of a request's `meta` that hold its `Protocol`; masking keeps a counter index in range. */
const PROTOCOL_BITS = 1;
/** Ages are capped at 2^29 − 1 ms (6.2 days): the rest of `meta` is the encoded, life and ETag bits. */
export const MAX_AGE_MS = 0x1fffffff;

/**
 * Walks a packed batch entry by entry without allocating per entry:
 * `reset(batch)`, then `while (reader.next())` read `id`, `code` and, for a
 * payload, the bytes `buffer[offset, offset + code)`; for a request its
 * `protocol`; for a result `ageMs`, `lifeMs` and the ETag at
 * `buffer[etagOffset, etagOffset + ETAG_BYTES)` when `etagOffset` ≥ 0.
 */
export class BatchReader {
  /** A Buffer view over the whole batch. */
  buffer: Buffer = Buffer.alloc(0);
  id = 0;
  code = 0;
  /** Where the current entry's payload (key or value) starts in `buffer`. */
  offset = 0;
  /** A result's age in milliseconds. */
  ageMs = 0;
  /** A result's remaining life in Redis in milliseconds, or -1 when its key has no TTL. */
  lifeMs = -1;
  /** A request's `Protocol` (its `meta` masked to the protocol bits: an index into per-protocol counters). */
  protocol: Protocol = Protocol.Http;
  /** A request's whole `meta` word: test `RESP3_FLAG` in it to know whether the client speaks RESP3. */
  meta = 0;
  /** Where the current result's ETag starts in `buffer`, or -1 when it has none. */
  etagOffset = -1;

  /**
   * A request's arguments' byte length (a typed command, `addCommand`): they
   * follow the key in the payload, whose key is then `code - argsLength`
   * bytes. 0 for a plain GET.
   */
  get argsLength(): number {
    return Math.max(this.lifeMs, 0);
  }
  #words = new Int32Array(0);
  #count = 0;
  #index = 0;
  #pos = 0;

  reset(batch: ArrayBuffer): void {
    this.buffer = Buffer.from(batch);
    this.#words = new Int32Array(batch, 0, batch.byteLength >>> 2);
    this.#count = this.#words[0]!;
    this.#index = 0;
    this.#pos = 4;
  }

  next(): boolean {
    if (this.#index === this.#count) return false;
    this.#index++;
    const w = this.#pos >>> 2;
    this.id = this.#words[w]!;
    const code = this.#words[w + 1]!;
    this.code = code;
    const meta = this.#words[w + 2]!;
    this.ageMs = meta & MAX_AGE_MS;
    this.protocol = (meta & PROTOCOL_BITS) as Protocol;
    this.meta = meta;
    let at = this.#pos + 12;
    if (meta & HAS_LIFE) {
      this.lifeMs = this.#words[w + 3]!;
      at += 4;
    } else {
      this.lifeMs = -1;
    }
    if (meta & HAS_ETAG) {
      this.etagOffset = at;
      at += ETAG_BYTES;
    } else {
      this.etagOffset = -1;
    }
    this.offset = at;
    if (code > 0) at += code;
    this.#pos = (at + 3) & ~3;
    return true;
  }
}
