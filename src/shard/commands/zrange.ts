/**
 * ZRANGE (by rank, BYSCORE, BYLEX, REV, LIMIT, WITHSCORES) and
 * ZRANGEBYSCORE, following Redis 7.0's `zrangeGenericCommand`: options are
 * parsed, then the range, then the key is looked at; errors come in that
 * order. The entry's members are in rank order (score, then member bytes),
 * so every range is a walk over consecutive ranks.
 */
import { Kind, type TypedView } from '../../cache/typed-value.js';
import { ABSENT_KEY, checkType, clampRange, type Command, integerArg, RANGE, SYNTAX } from './found.js';
import type { ReplyWriter } from './reply-writer.js';

const RANK = 0;
const SCORE = 1;
const LEX = 2;

/** A parsed score or lex bound: its value and whether it is exclusive. */
interface Bound {
  score: number;
  /** For BYLEX: the member bytes, or `MIN_LEX` / `MAX_LEX` for `-` / `+`. */
  lex: string | typeof MIN_LEX | typeof MAX_LEX;
  exclusive: boolean;
}

const MIN_LEX = 0;
const MAX_LEX = 1;

/** strtod's syntax as Redis accepts a score bound: leading space, a decimal or inf/infinity; nothing after. */
const FLOAT = /^[ \t\n\v\f\r]*[+-]?([0-9]+\.?[0-9]*([eE][+-]?[0-9]+)?|\.[0-9]+([eE][+-]?[0-9]+)?|inf(inity)?)$/i;

function parseScore(text: string, bound: Bound): boolean {
  bound.exclusive = text.charCodeAt(0) === 40; // '('
  const s = bound.exclusive ? text.slice(1) : text;
  // strtod of "" reads 0 and stops at the end, so Redis takes it (spaces alone it does not).
  if (s === '') {
    bound.score = 0;
    return true;
  }
  if (!FLOAT.test(s)) return false;
  const t = s.trim().toLowerCase();
  const sign = t.startsWith('-') ? -1 : 1;
  bound.score = t.replace(/^[+-]/, '').startsWith('inf') ? sign * Number.POSITIVE_INFINITY : Number(t);
  return true;
}

function parseLex(text: string, bound: Bound): boolean {
  const c = text.charCodeAt(0);
  if (c === 43 || c === 45) {
    // '+' or '-': alone only.
    if (text.length !== 1) return false;
    bound.exclusive = true;
    bound.lex = c === 43 ? MAX_LEX : MIN_LEX;
    return true;
  }
  if (c !== 40 && c !== 91) return false;
  bound.exclusive = c === 40;
  bound.lex = text.slice(1);
  return true;
}

const lo: Bound = { score: 0, lex: '', exclusive: false };
const hi: Bound = { score: 0, lex: '', exclusive: false };

/** ZRANGE (`generic`: its options choose the kind) or ZRANGEBYSCORE. */
function zrangeOf(generic: boolean): Command {
  return (found, args, argc, out) => {
    let type = generic ? -1 : SCORE;
    let reverse = generic ? -1 : 0;
    let withScores = false;
    let offset = 0;
    let limit = -1;
    for (let j = 3; j < argc; j++) {
      const option = args[j]!.toLowerCase();
      if (option === 'withscores') withScores = true;
      else if (option === 'limit' && argc - j - 1 >= 2) {
        const o = integerArg(args[j + 1]!, out);
        if (o === undefined) return;
        const l = integerArg(args[j + 2]!, out);
        if (l === undefined) return;
        offset = o;
        limit = l;
        j += 2;
      } else if (reverse === -1 && option === 'rev') reverse = 1;
      else if (type === -1 && option === 'bylex') type = LEX;
      else if (type === -1 && option === 'byscore') type = SCORE;
      else return out.error(SYNTAX);
    }
    if (reverse === -1) reverse = 0;
    if (type === -1) type = RANK;
    if (limit !== -1 && type === RANK)
      return out.error('ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX');
    if (withScores && type === LEX) return out.error('ERR syntax error, WITHSCORES not supported in combination with BYLEX');
    // REV with BYSCORE or BYLEX takes the range as max, min.
    const swap = reverse === 1 && type !== RANK;
    const minArg = args[swap ? 2 : 1]!;
    const maxArg = args[swap ? 1 : 2]!;
    let start = 0;
    let stop = 0;
    if (type === RANK) {
      const a = integerArg(minArg, out);
      if (a === undefined) return;
      const b = integerArg(maxArg, out);
      if (b === undefined) return;
      start = a;
      stop = b;
    } else if (type === SCORE) {
      if (!parseScore(minArg, lo) || !parseScore(maxArg, hi)) return out.error('ERR min or max is not a float');
    } else if (!parseLex(minArg, lo) || !parseLex(maxArg, hi)) return out.error('ERR min or max not valid string range item');
    if (found.kind === ABSENT_KEY) return out.array(0);
    if (!checkType(found, Kind.Zset, out)) return;
    const v = found.view;
    if (type === RANK) byRank(v, start, stop, reverse === 1, withScores, out);
    else walkRange(v, type, reverse === 1, offset, limit, withScores, out);
  };
}

export const zrange = zrangeOf(true);
export const zrangebyscore = zrangeOf(false);

function byRank(v: TypedView, start: number, stop: number, reverse: boolean, withScores: boolean, out: ReplyWriter): void {
  const n = v.length;
  if (!clampRange(start, stop, n)) return out.array(0);
  const from = RANGE[0]!;
  const to = RANGE[1]!;
  out.array(withScores && !out.resp3 ? 2 * (to - from + 1) : to - from + 1);
  for (let r = from; r <= to; r++) emit(v, reverse ? n - 1 - r : r, withScores, out);
}

function emit(v: TypedView, rank: number, withScores: boolean, out: ReplyWriter): void {
  if (withScores) out.pair();
  out.bulk(v.bytes, v.itemStart(2 * rank), v.itemEnd(2 * rank));
  if (withScores) out.double(v.bytes, v.itemStart(2 * rank + 1), v.itemEnd(2 * rank + 1));
}

/** Redis's `sdscmplex` of member `rank` against a lex bound. */
function lexCompare(v: TypedView, rank: number, bound: Bound): number {
  if (bound.lex === MIN_LEX) return 1;
  if (bound.lex === MAX_LEX) return -1;
  return v.compare(2 * rank, bound.lex);
}

function aboveMin(v: TypedView, type: number, rank: number): boolean {
  if (type === SCORE) return lo.exclusive ? v.score(rank) > lo.score : v.score(rank) >= lo.score;
  const c = lexCompare(v, rank, lo);
  return lo.exclusive ? c > 0 : c >= 0;
}

function belowMax(v: TypedView, type: number, rank: number): boolean {
  if (type === SCORE) return hi.exclusive ? v.score(rank) < hi.score : v.score(rank) <= hi.score;
  const c = lexCompare(v, rank, hi);
  return hi.exclusive ? c < 0 : c <= 0;
}

/** Whether the range can hold nothing whatever the set (min above max, or equal and one exclusive). */
function emptyRange(type: number): boolean {
  if (type === SCORE) return lo.score > hi.score || (lo.score === hi.score && (lo.exclusive || hi.exclusive));
  let c: number;
  if (lo.lex === hi.lex) c = 0;
  else if (lo.lex === MIN_LEX || hi.lex === MAX_LEX) c = -1;
  else if (lo.lex === MAX_LEX || hi.lex === MIN_LEX) c = 1;
  else c = lo.lex < hi.lex ? -1 : 1;
  return c > 0 || (c === 0 && (lo.exclusive || hi.exclusive));
}

/**
 * BYSCORE or BYLEX with LIMIT: from the first member in range (the last
 * with REV), skip `offset`, then up to `limit` (negative: no limit) while
 * still in range. A negative offset skips everything, as in Redis.
 */
function walkRange(
  v: TypedView,
  type: number,
  reverse: boolean,
  offset: number,
  limit: number,
  withScores: boolean,
  out: ReplyWriter,
): void {
  const n = v.length;
  let r = -1;
  if (!emptyRange(type) && !(offset > 0 && offset >= n)) {
    if (!reverse) {
      for (let i = 0; i < n; i++)
        if (aboveMin(v, type, i)) {
          r = belowMax(v, type, i) ? i : -1;
          break;
        }
    } else {
      for (let i = n - 1; i >= 0; i--)
        if (belowMax(v, type, i)) {
          r = aboveMin(v, type, i) ? i : -1;
          break;
        }
    }
  }
  const step = reverse ? -1 : 1;
  if (r >= 0) r = offset < 0 ? -1 : r + step * offset;
  let count = 0;
  const first = r;
  for (; r >= 0 && r < n && count !== limit; r += step, count++) if (reverse ? !aboveMin(v, type, r) : !belowMax(v, type, r)) break;
  out.array(withScores && !out.resp3 ? 2 * count : count);
  for (let k = 0, i = first; k < count; k++, i += step) emit(v, i, withScores, out);
}
