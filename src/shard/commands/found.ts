/**
 * What a typed command runs against: the key's cached entry, whatever its
 * type, or its absence. One instance per shard, reset for each request.
 */
import { type Kind, TypedView } from '../../cache/typed-value.js';
import type { ReplyWriter } from './reply-writer.js';

/** `Found.kind` of a key that does not exist, and of a string. */
export const ABSENT_KEY = -1;
export const STRING = 0;

/** See the file comment. */
export class Found {
  /** `ABSENT_KEY`, `STRING`, or a `Kind`. */
  kind = ABSENT_KEY;
  /** A string's bytes: `bytes[start, end)`. */
  bytes: Buffer = Buffer.alloc(0);
  start = 0;
  end = 0;
  /** A typed value. */
  readonly view = new TypedView();
  /** Ms until the key expires in Redis; -1 without a TTL. */
  lifeMs = -1;

  absent(): this {
    this.kind = ABSENT_KEY;
    return this;
  }

  string(bytes: Buffer, start: number, end: number, lifeMs: number): this {
    this.kind = STRING;
    this.bytes = bytes;
    this.start = start;
    this.end = end;
    this.lifeMs = lifeMs;
    return this;
  }

  /**
   * A key known only by its kind and life (an oversized key's marker,
   * `oversized.ts`): enough for EXISTS, TYPE, TTL and PTTL, which read no
   * value; no other command may run on it.
   */
  marked(kind: number, lifeMs: number): this {
    this.kind = kind;
    this.lifeMs = lifeMs;
    return this;
  }

  typed(bytes: Buffer, start: number, lifeMs: number): this {
    this.view.reset(bytes, start);
    this.kind = this.view.kind;
    this.lifeMs = lifeMs;
    return this;
  }
}

/**
 * A typed command: `args[0]` is its name, `args[1…argc)` the arguments after
 * the key (which `found` stands for). It writes its whole reply to `out`.
 */
export type Command = (found: Found, args: readonly string[], argc: number, out: ReplyWriter) => void;

export const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
export const NOT_INTEGER = 'ERR value is not an integer or out of range';
export const SYNTAX = 'ERR syntax error';

/**
 * Whether `found` holds a `kind` (an absent key passes: each command says
 * what absence answers); else writes WRONGTYPE and returns false.
 */
export function checkType(found: Found, kind: Kind | typeof STRING, out: ReplyWriter): boolean {
  if (found.kind === ABSENT_KEY || found.kind === kind) return true;
  out.error(WRONGTYPE);
  return false;
}

/**
 * Redis's `string2ll` as a long: the decimal integer `s` with no sign but
 * `-`, no leading zero, no space, within int64; else `undefined`. Values
 * beyond ±2^53 keep their sign and size class, which is all an index needs.
 */
export function parseInteger(s: string): number | undefined {
  if (!/^(0|-?[1-9][0-9]*)$/.test(s)) return undefined;
  if (s.length < 16) return Number(s);
  const big = BigInt(s);
  if (big > 9223372036854775807n || big < -9223372036854775808n) return undefined;
  return Number(big);
}

/** `parseInteger` that writes Redis's error when `s` is not one. */
export function integerArg(s: string, out: ReplyWriter): number | undefined {
  const n = parseInteger(s);
  if (n === undefined) out.error(NOT_INTEGER);
  return n;
}

/**
 * Redis's index rule for a range of `length` items from `start` to `stop`
 * (LRANGE, ZRANGE, GETRANGE's cousins): negatives count from the end, the
 * range is clamped; returns false when it is empty, else sets `RANGE`.
 */
export function clampRange(start: number, stop: number, length: number): boolean {
  if (start < 0) start = length + start;
  if (stop < 0) stop = length + stop;
  if (start < 0) start = 0;
  if (start > stop || start >= length) return false;
  if (stop >= length) stop = length - 1;
  RANGE[0] = start;
  RANGE[1] = stop;
  return true;
}

/** `clampRange`'s result: first and last index, inclusive. */
export const RANGE = new Float64Array(2);
