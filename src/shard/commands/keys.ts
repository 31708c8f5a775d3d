/** The commands of any key and of strings: EXISTS, TYPE, TTL, PTTL, STRLEN, GETRANGE. */
import { KIND_NAMES } from '../../cache/typed-value.js';
import { ABSENT_KEY, checkType, type Command, integerArg, STRING } from './found.js';

export const exists: Command = (found, _args, _argc, out) => out.integer(found.kind === ABSENT_KEY ? 0 : 1);

export const type: Command = (found, _args, _argc, out) => out.status(found.kind === ABSENT_KEY ? 'none' : KIND_NAMES[found.kind]!);

/** PTTL: -2 absent, -1 no TTL, else the ms left as the entry counts them. */
export const pttl: Command = (found, _args, _argc, out) => out.integer(found.kind === ABSENT_KEY ? -2 : found.lifeMs);

/** TTL: seconds rounded to the nearest, as Redis's `(ttl + 500) / 1000`. */
export const ttl: Command = (found, _args, _argc, out) =>
  out.integer(found.kind === ABSENT_KEY ? -2 : found.lifeMs < 0 ? -1 : Math.floor((found.lifeMs + 500) / 1000));

export const strlen: Command = (found, _args, _argc, out) => {
  if (checkType(found, STRING, out)) out.integer(found.kind === ABSENT_KEY ? 0 : found.end - found.start);
};

/** GETRANGE key start end: the indexes are parsed before the key is looked at, as in Redis. */
export const getrange: Command = (found, args, _argc, out) => {
  let start = integerArg(args[1]!, out);
  if (start === undefined) return;
  let end = integerArg(args[2]!, out);
  if (end === undefined || !checkType(found, STRING, out)) return;
  if (found.kind === ABSENT_KEY) return out.text('');
  const length = found.end - found.start;
  if (start < 0 && end < 0 && start > end) return out.text('');
  if (start < 0) start = length + start;
  if (end < 0) end = length + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= length) end = length - 1;
  if (start > end || length === 0) return out.text('');
  out.bulk(found.bytes, found.start + start, found.start + end + 1);
};
