/**
 * The compact encoding of a hash, list, set or sorted set held whole in one
 * cache entry (the entry's value bytes; the entry is flagged `TYPED`):
 *
 *     u8 kind | u32 items | u32 json at | u32 json length | u32 offsets[items + 1]
 *       | [f64 scores[items / 2] for a zset] | item bytes | [the value's JSON]
 *
 * little-endian, unaligned (an entry's value starts after its key). Item
 * `i` is `bytes[offsets[i], offsets[i + 1])`, offsets counted from the
 * value's first byte, so any item is reached in O(1): a list index, a rank.
 * A hash's items are field, value, field, value…; a zset's member, score…
 * with the score as the exact text Redis wrote (`%.17g`, so a reply copies
 * it) and as a double for range searches. Items keep the order Redis gave
 * them in (HGETALL, LRANGE 0 -1, SMEMBERS, ZRANGE 0 -1 WITHSCORES): a
 * set's or hash's order is Redis's own iteration order at the fetch.
 *
 * The value's JSON over HTTP (`withJson`) is rendered once, when the value
 * is read from Redis, and kept after the items: a GET of a hash then copies
 * bytes as a GET of a string does, for about twice the memory of the items.
 */

/** The kind byte: which Redis type the entry holds (a stream, or a module type, is held as `Stream` with no items: only its type and TTL are answered). */
export const Kind = { Hash: 1, List: 2, Set: 3, Zset: 4, Stream: 5 } as const;
/** One of the `Kind` values. */
export type Kind = (typeof Kind)[keyof typeof Kind];
/** Redis's TYPE name of each kind, by value (0: a string entry). */
export const KIND_NAMES = ['string', 'hash', 'list', 'set', 'zset', 'stream'] as const;

const HEADER = 13;

/** Encodes Redis's flat reply `items` (HGETALL, LRANGE, SMEMBERS, ZRANGE WITHSCORES) as a value of `kind`. */
export function encodeTyped(kind: Kind, items: readonly Buffer[]): Buffer {
  const n = items.length;
  const scores = kind === Kind.Zset ? n >>> 1 : 0;
  let bytes = HEADER + 4 * (n + 1) + 8 * scores;
  const dataStart = bytes;
  for (let i = 0; i < n; i++) bytes += items[i]!.length;
  const out = Buffer.allocUnsafe(bytes);
  out[0] = kind;
  out.writeUInt32LE(n, 1);
  out.writeUInt32LE(bytes, 5);
  out.writeUInt32LE(0, 9);
  let at = dataStart;
  for (let i = 0; i < n; i++) {
    out.writeUInt32LE(at, HEADER + 4 * i);
    at += items[i]!.copy(out, at);
  }
  out.writeUInt32LE(at, HEADER + 4 * n);
  for (let j = 0; j < scores; j++) out.writeDoubleLE(parseScore(items[2 * j + 1]!.toString('latin1')), HEADER + 4 * (n + 1) + 8 * j);
  return out;
}

/** `encoded` (from `encodeTyped`) with `json[start, end)` kept after its items as the value's JSON. */
export function withJson(encoded: Buffer, json: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(encoded.length + end - start);
  encoded.copy(out, 0);
  json.copy(out, encoded.length, start, end);
  out.writeUInt32LE(encoded.length, 5);
  out.writeUInt32LE(end - start, 9);
  return out;
}

/** A score as Redis writes it: a `%.17g` number, `inf` or `-inf`. */
function parseScore(text: string): number {
  if (text === 'inf') return Number.POSITIVE_INFINITY;
  if (text === '-inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

/**
 * Reads one typed value where it lies (`reset(bytes, start)`), allocating
 * nothing: one view is reused for every request.
 */
export class TypedView {
  bytes: Buffer = Buffer.alloc(0);
  start = 0;
  kind: Kind = Kind.Hash;
  /** Items: elements, or twice the pairs of a hash or zset. */
  items = 0;

  reset(bytes: Buffer, start: number): this {
    this.bytes = bytes;
    this.start = start;
    this.kind = bytes[start] as Kind;
    this.items = bytes.readUInt32LE(start + 1);
    return this;
  }

  /** Where the value's JSON starts in `bytes` (`withJson`). */
  get jsonStart(): number {
    return this.start + this.bytes.readUInt32LE(this.start + 5);
  }

  /** The JSON's length; 0 when none was kept. */
  get jsonLength(): number {
    return this.bytes.readUInt32LE(this.start + 9);
  }

  /** Pairs of a hash or zset, elements of a list or set: what HLEN, LLEN, SCARD, ZCARD answer. */
  get length(): number {
    return this.kind === Kind.Hash || this.kind === Kind.Zset ? this.items >>> 1 : this.items;
  }

  /** Where item `i` starts in `bytes`. */
  itemStart(i: number): number {
    return this.start + this.bytes.readUInt32LE(this.start + HEADER + 4 * i);
  }

  /** Where item `i` ends in `bytes`. */
  itemEnd(i: number): number {
    return this.start + this.bytes.readUInt32LE(this.start + HEADER + 4 * (i + 1));
  }

  /** The score of a zset's `rank`-th member. */
  score(rank: number): number {
    return this.bytes.readDoubleLE(this.start + HEADER + 4 * (this.items + 1) + 8 * rank);
  }

  /** Whether item `i` equals the binary string `s`. */
  itemIs(i: number, s: string): boolean {
    const from = this.itemStart(i);
    if (this.itemEnd(i) - from !== s.length) return false;
    const b = this.bytes;
    for (let k = 0; k < s.length; k++) if (b[from + k] !== s.charCodeAt(k)) return false;
    return true;
  }

  /**
   * The index of the first item equal to `s` among items `0, step, 2·step…`
   * (a hash's fields, a zset's members: step 2), or -1. A linear scan: the
   * entry holds no index, so a lookup in a large collection costs its size.
   */
  find(s: string, step: number): number {
    for (let i = 0; i < this.items; i += step) if (this.itemIs(i, s)) return i;
    return -1;
  }

  /** Compares item `i` with the binary string `s` as memcmp then length (Redis's `sdscmp`): <0, 0, >0. */
  compare(i: number, s: string): number {
    const from = this.itemStart(i);
    const length = this.itemEnd(i) - from;
    const b = this.bytes;
    const n = Math.min(length, s.length);
    for (let k = 0; k < n; k++) {
      const d = b[from + k]! - s.charCodeAt(k);
      if (d !== 0) return d;
    }
    return length - s.length;
  }
}
