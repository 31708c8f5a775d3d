/**
 * A forwarded typed command's reply (`forward.ts`), as ioredis decoded it,
 * written again for the client through `ReplyWriter`, so RESP2 and RESP3
 * framing stays decided in one place. ioredis hands over Buffers for bulk
 * and status strings and for doubles (its legacy mapping keeps a RESP3
 * double's text), numbers for integers, null for a null, arrays for arrays,
 * maps and sets; a (member, score) pair of a RESP3 connection arrives as an
 * array of two, of a RESP2 one flat. Which RESP3 shape the reply had is
 * lost on the way, so it is told per command, as Redis 7.0 answers them
 * (`shapeOf`); every other command's reply is written as it came.
 */
import type { ReplyWriter } from './reply-writer.js';

/** How a forwarded command's reply is framed (see the file comment). */
export const Shape = {
  /** As it came: arrays, bulk strings, integers, nulls. */
  Generic: 0,
  /** HGETALL: a map of the flat field, value list. */
  Map: 1,
  /** SMEMBERS: a set. */
  Set: 2,
  /** ZSCORE: a double or a null. */
  Double: 3,
  /** ZMSCORE: an array of doubles and nulls. */
  Doubles: 4,
  /** ZRANGE, ZRANGEBYSCORE WITHSCORES: (member, score) pairs. */
  Scored: 5,
} as const;
/** One of the `Shape` values. */
export type Shape = (typeof Shape)[keyof typeof Shape];

/**
 * The shape of command `name` (upper case) with arguments `args[1, argc)`
 * (after the key). WITHSCORES is looked for among the options only, after
 * the two bounds: a bound spelled `withscores` is an error Redis answers.
 */
export function shapeOf(name: string, args: readonly string[], argc: number): Shape {
  switch (name) {
    case 'HGETALL':
      return Shape.Map;
    case 'SMEMBERS':
      return Shape.Set;
    case 'ZSCORE':
      return Shape.Double;
    case 'ZMSCORE':
      return Shape.Doubles;
    case 'ZRANGE':
    case 'ZRANGEBYSCORE':
      for (let i = 3; i < argc; i++) if (args[i]!.toUpperCase() === 'WITHSCORES') return Shape.Scored;
  }
  return Shape.Generic;
}

/** Writes `reply`, a successful reply of the shape `shape`, to `out` (reset by the caller for the client's protocol). */
export function writeForwarded(out: ReplyWriter, shape: Shape, reply: unknown): void {
  if (!Array.isArray(reply)) {
    if (shape === Shape.Double && Buffer.isBuffer(reply)) return out.double(reply, 0, reply.length);
    return generic(out, reply);
  }
  if (shape === Shape.Map) out.map(reply.length >>> 1);
  else if (shape === Shape.Set) out.set(reply.length);
  else if (shape === Shape.Scored) return scored(out, reply.flat());
  else out.array(reply.length);
  for (const item of reply) {
    if (shape === Shape.Doubles && Buffer.isBuffer(item)) out.double(item, 0, item.length);
    else generic(out, item);
  }
}

/** Pairs of member and score, flat (`[m, s, m, s…]`): an array of pairs in RESP3, the flat array in RESP2. */
function scored(out: ReplyWriter, flat: unknown[]): void {
  out.array(out.resp3 ? flat.length >>> 1 : flat.length);
  for (let i = 0; i + 1 < flat.length; i += 2) {
    out.pair();
    generic(out, flat[i]);
    const score = flat[i + 1];
    if (Buffer.isBuffer(score)) out.double(score, 0, score.length);
    else generic(out, score);
  }
}

/** A reply written as it came: an array of replies, a bulk string, an integer, a null. */
function generic(out: ReplyWriter, reply: unknown): void {
  if (reply === null || reply === undefined) out.nil();
  else if (typeof reply === 'number') out.integer(reply);
  else if (Buffer.isBuffer(reply)) out.bulk(reply, 0, reply.length);
  else if (Array.isArray(reply)) {
    out.array(reply.length);
    for (const item of reply) generic(out, item);
  } else out.text(String(reply));
}
