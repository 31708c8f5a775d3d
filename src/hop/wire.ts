/**
 * The batch format that carries requests to a shard and results back, one
 * transferred ArrayBuffer per batch in each direction:
 *
 *     int32 count
 *     count × { int32 id, int32 code }
 *     payload: the bytes of every entry with code ≥ 0, back to back
 *
 * For a request, `code` is the key's length and the payload holds the key.
 * For a result, `code` ≥ 0 is the value's length (found) and a negative code
 * is an `Outcome` with no payload. Transferring one buffer per event-loop
 * turn, instead of one message per request, is what makes the hop between
 * threads cheap: the fixed cost of a postMessage and of waking the other
 * thread is shared by the whole batch.
 */

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
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

const ENTRY_BYTES = 8;

/**
 * Collects entries and packs them into one ArrayBuffer. Keeps references to
 * the payloads until `finish`, so each payload byte is copied exactly once:
 * into the buffer that is transferred.
 */
export class BatchWriter {
  #ids = new Int32Array(64);
  #codes = new Int32Array(64);
  #payloads: (Buffer | string | undefined)[] = [];
  #count = 0;
  #payloadBytes = 0;

  /** Number of entries collected since the last `finish`. */
  get length(): number {
    return this.#count;
  }

  /** Adds an entry whose payload is a binary string (a key). */
  addKey(id: number, key: string): void {
    this.#push(id, key.length, key);
  }

  /** Adds an entry whose payload is `value`. */
  addValue(id: number, value: Buffer): void {
    this.#push(id, value.length, value);
  }

  /** Adds an entry with no payload. */
  addOutcome(id: number, outcome: Outcome): void {
    this.#push(id, outcome, undefined);
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
      const payload = this.#payloads[i];
      if (payload === undefined) continue;
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
    this.#count = 0;
    this.#payloadBytes = 0;
  }

  #push(id: number, code: number, payload: Buffer | string | undefined): void {
    const i = this.#count++;
    if (i === this.#ids.length) {
      const ids = new Int32Array(i * 2);
      ids.set(this.#ids);
      this.#ids = ids;
      const codes = new Int32Array(i * 2);
      codes.set(this.#codes);
      this.#codes = codes;
    }
    this.#ids[i] = id;
    this.#codes[i] = code;
    this.#payloads[i] = payload;
    if (code > 0) this.#payloadBytes += code;
  }
}

/**
 * Walks a packed batch entry by entry without allocating per entry:
 * `reset(batch)`, then `while (reader.next())` read `id`, `code` and, for a
 * payload, the bytes `buffer[offset, offset + code)`.
 */
export class BatchReader {
  /** A Buffer view over the whole batch. */
  buffer: Buffer = Buffer.alloc(0);
  id = 0;
  code = 0;
  /** Where the current entry's payload starts in `buffer`. */
  offset = 0;
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
    this.offset = this.#nextPayload;
    if (this.code > 0) this.#nextPayload += this.code;
    return true;
  }
}
