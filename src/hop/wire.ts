/**
 * The batch format that carries requests to a shard and results back, one
 * transferred ArrayBuffer per batch in each direction:
 *
 *     int32 count
 *     count × { int32 id, int32 code, uint32 meta }
 *     payload: for every entry with code ≥ 0, back to back:
 *              [18-byte quoted ETag if meta bit 31 is set] + code bytes
 *
 * For a request, `code` is the key's length, the payload holds the key and
 * `meta` is the `Protocol` the request came in by (0 HTTP, 1 RESP; the other
 * bits are 0), so that the shard counts hits and misses per protocol with an
 * array index and no string. For a result, `code` ≥ 0 is the value's length (found), meta's
 * low 31 bits are the value's age in milliseconds (time since it was fetched
 * from Redis) and bit 31 says an ETag precedes the value (cached values have
 * one); a negative code is an `Outcome` with no payload. The main thread
 * needs nothing else to write `ETag`, `Age` and `Cache-Control`.
 *
 * Transferring one buffer per event-loop turn, instead of one message per
 * request, is what makes the hop between threads cheap: the fixed cost of a
 * postMessage and of waking the other thread is shared by the whole batch.
 */
import { ETAG_BYTES } from '../cache/etag.js';

/** The front end a request came in by: a request entry's `meta`, and an index into per-protocol counters. */
export const Protocol = {
  Http: 0,
  Resp: 1,
} as const;
/** One of the `Protocol` values. */
export type Protocol = (typeof Protocol)[keyof typeof Protocol];
/** The `protocol` label of each `Protocol`, by value. */
export const PROTOCOLS = ['http', 'resp'] as const;

/** Negative result codes: why a key has no value to send. */
export const Outcome = {
  /** The key does not exist in Redis. */
  NotFound: -1,
  /** The key holds a list, hash, … (Redis answered WRONGTYPE). */
  WrongType: -2,
  /** Redis is unreachable or did not answer within REDIS_TIMEOUT_MS. */
  Unavailable: -3,
  /** Redis answered with an error other than WRONGTYPE. */
  RedisError: -4,
  /** The shard worker died with the request in flight. */
  ShardDown: -5,
  /** The shard already had MAX_INFLIGHT requests in flight (never sent; answered by the dispatcher). */
  Overloaded: -6,
} as const;
/** One of the `Outcome` codes. */
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

const ENTRY_BYTES = 12;
const HAS_ETAG = 0x80000000;
/** The bits of a request's `meta` that hold its `Protocol`; masking keeps a counter index in range. */
const PROTOCOL_BITS = 1;
/** Ages are capped at 2^31 − 1 ms (24.8 days): the rest of `meta` is the ETag bit. */
const MAX_AGE_MS = 0x7fffffff;

/**
 * Collects entries and packs them into one ArrayBuffer. Keeps references to
 * the payloads until `finish`, so each payload byte is copied exactly once:
 * into the buffer that is transferred.
 */
export class BatchWriter {
  #ids = new Int32Array(64);
  #codes = new Int32Array(64);
  #metas = new Uint32Array(64);
  #payloads: (Buffer | string | undefined)[] = [];
  #etags: (Buffer | undefined)[] = [];
  #count = 0;
  #payloadBytes = 0;

  /** Number of entries collected since the last `finish`. */
  get length(): number {
    return this.#count;
  }

  /** Adds a request: its payload is a binary string (a key); `protocol` is the front end it came in by. */
  addKey(id: number, key: string, protocol: Protocol): void {
    this.#push(id, key.length, key, protocol, undefined);
  }

  /**
   * Adds an entry whose payload is `value`, fetched `ageMs` ago, with its
   * quoted `etag` (ETAG_BYTES long) when it has one.
   */
  addValue(id: number, value: Buffer, ageMs: number, etag: Buffer | undefined): void {
    const age = ageMs < MAX_AGE_MS ? ageMs : MAX_AGE_MS;
    this.#push(id, value.length, value, etag === undefined ? age : (age | HAS_ETAG) >>> 0, etag);
  }

  /** Adds an entry with no payload. */
  addOutcome(id: number, outcome: Outcome): void {
    this.#push(id, outcome, undefined, 0, undefined);
  }

  /** Packs the collected entries into a new ArrayBuffer and starts a new batch. */
  finish(): ArrayBuffer {
    const count = this.#count;
    let offset = 4 + count * ENTRY_BYTES;
    // Not pooled and not zero-filled: every byte is written below, and a
    // pooled slab could not be transferred without taking its neighbours.
    const out = Buffer.allocUnsafeSlow(offset + this.#payloadBytes);
    out.writeInt32LE(count, 0);
    for (let i = 0; i < count; i++) {
      out.writeInt32LE(this.#ids[i]!, 4 + i * ENTRY_BYTES);
      out.writeInt32LE(this.#codes[i]!, 8 + i * ENTRY_BYTES);
      out.writeUInt32LE(this.#metas[i]!, 12 + i * ENTRY_BYTES);
      const payload = this.#payloads[i];
      if (payload === undefined) continue;
      const etag = this.#etags[i];
      if (etag !== undefined) {
        offset += etag.copy(out, offset);
        this.#etags[i] = undefined;
      }
      if (typeof payload === 'string') offset += out.latin1Write(payload, offset);
      else offset += payload.copy(out, offset);
      this.#payloads[i] = undefined;
    }
    this.#count = 0;
    this.#payloadBytes = 0;
    return out.buffer as ArrayBuffer;
  }

  /** Drops the collected entries. */
  clear(): void {
    this.#payloads.fill(undefined, 0, this.#count);
    this.#etags.fill(undefined, 0, this.#count);
    this.#count = 0;
    this.#payloadBytes = 0;
  }

  #push(id: number, code: number, payload: Buffer | string | undefined, meta: number, etag: Buffer | undefined): void {
    const i = this.#count++;
    if (i === this.#ids.length) {
      this.#ids = grown(this.#ids, new Int32Array(i * 2));
      this.#codes = grown(this.#codes, new Int32Array(i * 2));
      this.#metas = grown(this.#metas, new Uint32Array(i * 2));
    }
    this.#ids[i] = id;
    this.#codes[i] = code;
    this.#metas[i] = meta;
    this.#payloads[i] = payload;
    this.#etags[i] = etag;
    if (code > 0) this.#payloadBytes += code;
    if (etag !== undefined) this.#payloadBytes += ETAG_BYTES;
  }
}

function grown<T extends Int32Array | Uint32Array>(old: T, bigger: T): T {
  bigger.set(old);
  return bigger;
}

/**
 * Walks a packed batch entry by entry without allocating per entry:
 * `reset(batch)`, then `while (reader.next())` read `id`, `code` and, for a
 * payload, the bytes `buffer[offset, offset + code)`; for a request its
 * `protocol`; for a result `ageMs` and the ETag at
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
  /** A request's `Protocol`. */
  protocol: Protocol = Protocol.Http;
  /** Where the current result's ETag starts in `buffer`, or -1 when it has none. */
  etagOffset = -1;
  #count = 0;
  #index = 0;
  #nextPayload = 0;

  reset(batch: ArrayBuffer): void {
    this.buffer = Buffer.from(batch);
    this.#count = this.buffer.readInt32LE(0);
    this.#index = 0;
    this.#nextPayload = 4 + this.#count * ENTRY_BYTES;
  }

  next(): boolean {
    if (this.#index === this.#count) return false;
    const at = 4 + this.#index++ * ENTRY_BYTES;
    this.id = this.buffer.readInt32LE(at);
    this.code = this.buffer.readInt32LE(at + 4);
    const meta = this.buffer.readUInt32LE(at + 8);
    this.ageMs = meta & MAX_AGE_MS;
    this.protocol = (meta & PROTOCOL_BITS) as Protocol;
    if (meta & HAS_ETAG) {
      this.etagOffset = this.#nextPayload;
      this.#nextPayload += ETAG_BYTES;
    } else {
      this.etagOffset = -1;
    }
    this.offset = this.#nextPayload;
    if (this.code > 0) this.#nextPayload += this.code;
    return true;
  }
}
