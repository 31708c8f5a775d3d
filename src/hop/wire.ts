/**
 * The batch format that carries requests to a shard and results back, one
 * transferred ArrayBuffer per batch in each direction:
 *
 *     int32 count
 *     count × { int32 id, int32 code, uint32 meta,
 *               [uint32 remaining life in ms if meta bit 30 is set],
 *               [18-byte quoted ETag if meta bit 31 is set],
 *               code bytes of payload if code > 0, zero to three bytes of padding }
 *
 * Each entry starts on a 4-byte boundary, so its three words are read and
 * written through an Int32Array. For a request, `code` is the key's length,
 * the payload holds the key and `meta` is the `Protocol` the request came in
 * by (0 HTTP, 1 RESP) in its low bit, so that the shard counts hits and
 * misses per protocol with an array index and no string, plus `RESP3_FLAG`
 * (bit 29) when the RESP connection speaks RESP3; the other bits are 0. For a result,
 * `code` ≥ 0 is the value's length (found), meta's low 29 bits are the
 * value's age in milliseconds (time since it was fetched from Redis), bit
 * 29 (`ENCODED`) says the value is a whole encoded reply (a typed command's
 * RESP bytes, a hash's JSON), bit 30 says the key's remaining life in Redis follows (it has a TTL), and bit
 * 31 says an ETag precedes the value (cached values have one); a negative
 * code is an `Outcome` with no payload. The main thread needs nothing else
 * to write `ETag`, `Age` and `Cache-Control`.
 *
 * A typed command (HGET, ZRANGE…: `addCommand`) is a request with bit 30
 * set: the word after the three holds its arguments' byte length, and the
 * payload is the key followed by the arguments, each as a uint32 length and
 * its bytes; `code` is then the whole payload's length.
 *
 * The writer copies each payload as it is added, not when the batch is
 * finished: a cached value lives in the shard's arena, where a later `set`
 * in the same turn may reuse its bytes (an eviction), so a reply must not
 * keep a reference to them. Each byte is still copied once, into the buffer
 * that is transferred.
 *
 * Transferring one buffer per event-loop turn, instead of one message per
 * request, is what makes the hop between threads cheap: the fixed cost of a
 * postMessage and of waking the other thread is shared by the whole batch.
 */
import { ETAG_BYTES, writeEtag } from '../cache/etag.js';
import { BufferPool, RETURN_MIN_BYTES } from './buffer-pool.js';
import type { Outcome } from './vocabulary.js';

import { ENCODED, HAS_ETAG, HAS_LIFE, MAX_AGE_MS } from './wire-reader.js';

/** Smallest buffer a writer starts a batch with. */
const MIN_CAPACITY = 4096;
/**
 * Batches up to this size cross as an exact copy, and the writer keeps its
 * buffer (`finish` says why). Above it the buffer crosses whole: copying
 * each 4 KiB-value batch (tens of KiB) measured 0.65× bare node:http on
 * that hit path, against 0.91–1.00× sending whole buffers.
 */
const COPY_MAX_BYTES = 16 * 1024;

/**
 * Packs entries into one ArrayBuffer as they are added, copying each
 * payload at once (see the file comment); `finish` hands the batch over (a
 * small one as an exact copy, a large one in its buffer).
 */
export class BatchWriter {
  #buf = EMPTY;
  #words = NO_WORDS;
  #pos = 4;
  #count = 0;
  #capacity = MIN_CAPACITY;
  /** Buffers handed back (`recycle`), taken before allocating. */
  readonly #pool = new BufferPool();

  /** Takes back a buffer this writer's batch was sent in, to fill again (`BufferPool.put`). */
  recycle(buffer: ArrayBuffer): void {
    this.#pool.put(buffer);
  }

  /** Number of entries collected since the last `finish`. */
  get length(): number {
    return this.#count;
  }

  /** Bytes the batch holds so far. */
  get bytes(): number {
    return this.#pos;
  }

  /** Adds a request: its payload is a binary string (a key); `meta` is the `Protocol` it came in by, with `RESP3_FLAG` if set. */
  addKey(id: number, key: string, meta: number): void {
    const at = this.#entry(id, key.length, meta, key.length);
    this.#buf.latin1Write(key, at);
  }

  /**
   * Adds a typed command on `key`: its name `args[0]` and its arguments
   * after the key, `args[2, argc)` (see the file comment for the layout).
   */
  addCommand(id: number, key: string, meta: number, args: readonly string[], argc: number): void {
    let argsBytes = 4 + args[0]!.length;
    for (let i = 2; i < argc; i++) argsBytes += 4 + args[i]!.length;
    let at = this.#entry(id, key.length + argsBytes, meta | HAS_LIFE, key.length + argsBytes, argsBytes);
    const buf = this.#buf;
    at += buf.latin1Write(key, at);
    for (let i = 0; i < argc; i = i === 0 ? 2 : i + 1) {
      const arg = args[i]!;
      buf.writeUInt32LE(arg.length, at);
      at += 4 + buf.latin1Write(arg, at + 4);
    }
  }

  /**
   * Adds a whole encoded reply copied from `source[start, start + length)`
   * (`ENCODED`), `ageMs` old, its key `lifeMs` from expiry, with the ETag
   * of words `etagHigh`, `etagLow` unless `etagHigh` is undefined.
   */
  addEncoded(
    id: number,
    source: Buffer,
    start: number,
    length: number,
    ageMs: number,
    lifeMs: number,
    etagHigh?: number,
    etagLow = 0,
  ): void {
    const age = Math.min(ageMs, MAX_AGE_MS);
    const tagged = etagHigh !== undefined;
    const meta = (age | ENCODED | (tagged ? HAS_ETAG : 0) | (lifeMs < 0 ? 0 : HAS_LIFE)) >>> 0;
    let at = this.#entry(id, length, meta, length + (tagged ? ETAG_BYTES : 0), lifeMs);
    if (tagged) {
      writeEtag(this.#buf, at, etagHigh, etagLow);
      at += ETAG_BYTES;
    }
    source.copy(this.#buf, at, start, start + length);
  }

  /**
   * Adds an entry whose payload is `value`, fetched `ageMs` ago, with its
   * quoted `etag` (ETAG_BYTES long) when it has one.
   */
  addValue(id: number, value: Uint8Array, ageMs: number, etag: Uint8Array | undefined, lifeMs = -1): void {
    const age = Math.min(ageMs, MAX_AGE_MS);
    const meta = (etag === undefined ? age : age | HAS_ETAG) | (lifeMs < 0 ? 0 : HAS_LIFE);
    let at = this.#entry(id, value.length, meta >>> 0, value.length + (etag === undefined ? 0 : ETAG_BYTES), lifeMs);
    if (etag !== undefined) {
      this.#buf.set(etag, at);
      at += ETAG_BYTES;
    }
    this.#buf.set(value, at);
  }

  /**
   * Adds a value copied from `source[start, start + length)` (a cached
   * entry's bytes in the arena), `ageMs` old, with the ETag of the words
   * `etagHigh`, `etagLow`, its key `lifeMs` from expiry in Redis (negative:
   * no TTL).
   */
  addStored(
    id: number,
    source: Buffer,
    start: number,
    length: number,
    ageMs: number,
    etagHigh: number,
    etagLow: number,
    lifeMs = -1,
  ): void {
    const age = Math.min(ageMs, MAX_AGE_MS);
    const to = this.#entry(id, length, (age | HAS_ETAG | (lifeMs < 0 ? 0 : HAS_LIFE)) >>> 0, length + ETAG_BYTES, lifeMs) + ETAG_BYTES;
    const buf = this.#buf;
    writeEtag(buf, to - ETAG_BYTES, etagHigh, etagLow);
    // A short value is cheaper to copy in JavaScript than through a native call.
    if (length > 64) source.copy(buf, to, start, start + length);
    else for (let i = 0; i < length; i++) buf[to + i] = source[start + i]!;
  }

  /** Adds an entry with no payload. */
  addOutcome(id: number, outcome: Outcome): void {
    this.#entry(id, outcome, 0, 0);
  }

  /**
   * Hands over the batch and starts a new one. A small batch (up to
   * `COPY_MAX_BYTES`, in a buffer under `RETURN_MIN_BYTES`) leaves as a copy
   * of exactly its bytes, and the writer keeps its buffer for the next
   * batch: a batch that left in its whole buffer (a few KiB, mostly unused)
   * kept that much more memory waiting for the other thread's garbage
   * collector, and the heap it came from did not shrink after, which cost
   * 40 B of RSS per cached entry in the memory benchmark (1M entries filled
   * by misses: 214.6 against 175.1 B). A larger batch leaves in its buffer,
   * untrimmed: copying it costs more than the memory it holds
   * (`ArrayBuffer.transfer` to a shorter length copies too), and from
   * `RETURN_MIN_BYTES` on the buffer comes back to be filled again; the
   * reader stops at the count. The next batch then starts with room for
   * this one's bytes and a quarter more.
   */
  finish(): ArrayBuffer {
    if (this.#buf.length === 0) this.#reserve(16);
    if (this.#pos < RETURN_MIN_BYTES) this.#pool.shrink();
    this.#words[0] = this.#count;
    if (this.#pos <= COPY_MAX_BYTES && this.#buf.length < RETURN_MIN_BYTES) {
      const exact = this.#buf.buffer.slice(this.#buf.byteOffset, this.#buf.byteOffset + this.#pos) as ArrayBuffer;
      this.#pos = 4;
      this.#count = 0;
      return exact;
    }
    const out = this.#buf.buffer;
    this.#capacity = Math.max(MIN_CAPACITY, this.#pos + (this.#pos >>> 2));
    this.#buf = EMPTY;
    this.#words = NO_WORDS;
    this.#pos = 4;
    this.#count = 0;
    return out;
  }

  /** Drops the collected entries. */
  clear(): void {
    this.#pos = 4;
    this.#count = 0;
  }

  /** Writes an entry's three words (and its life word, with a `lifeMs` ≥ 0); returns where its payload (`bytes` long, ETag included) goes. */
  #entry(id: number, code: number, meta: number, bytes: number, lifeMs = -1): number {
    const at = this.#pos;
    const head = lifeMs < 0 ? 12 : 16;
    const end = at + head + bytes;
    if (end + 3 > this.#buf.length) this.#reserve(end + 3);
    const w = at >>> 2;
    this.#words[w] = id;
    this.#words[w + 1] = code;
    this.#words[w + 2] = meta | 0;
    if (lifeMs >= 0) this.#words[w + 3] = Math.min(lifeMs, 0x7fffffff);
    this.#pos = (end + 3) & ~3;
    this.#count++;
    return at + head;
  }

  /** Makes room for `bytes` in all: a new buffer for a new batch, or a larger one keeping what was written. */
  #reserve(bytes: number): void {
    let capacity = Math.max(this.#capacity, 16);
    while (capacity < bytes) capacity *= 2;
    // Large buffers come in powers of two, so that one handed back fits the
    // next batches, whose estimate moves with the last batch's size.
    if (capacity >= RETURN_MIN_BYTES) capacity = 2 ** Math.ceil(Math.log2(capacity));
    // Small batches are cheap to allocate: the pool is for large ones.
    // Not zero-filled either way: every byte the reader looks at is written first.
    const taken = capacity >= RETURN_MIN_BYTES ? this.#pool.take(bytes) : undefined;
    const buf = taken !== undefined ? Buffer.from(taken) : Buffer.allocUnsafeSlow((capacity + 7) & ~7);
    if (this.#pos > 4) {
      this.#buf.copy(buf, 0, 0, this.#pos);
      // Outgrown, never sent: it can hold a later batch.
      if (this.#buf.length >= RETURN_MIN_BYTES) this.recycle(this.#buf.buffer as ArrayBuffer);
    }
    this.#buf = buf;
    this.#words = new Int32Array(buf.buffer);
    this.#capacity = buf.length;
  }
}

const EMPTY = Buffer.alloc(0);
const NO_WORDS = new Int32Array(0);

export { BatchReader } from './wire-reader.js';
