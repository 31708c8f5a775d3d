/** The list reads: LRANGE, LINDEX, LLEN. */
import { Kind } from '../../cache/typed-value.js';
import { ABSENT_KEY, checkType, clampRange, type Command, integerArg, RANGE } from './found.js';

/** LRANGE key start stop: the indexes are parsed before the key is looked at, as in Redis. */
export const lrange: Command = (found, args, _argc, out) => {
  const start = integerArg(args[1]!, out);
  if (start === undefined) return;
  const stop = integerArg(args[2]!, out);
  if (stop === undefined || !checkType(found, Kind.List, out)) return;
  const v = found.view;
  if (found.kind === ABSENT_KEY || !clampRange(start, stop, v.items)) return out.array(0);
  out.array(RANGE[1]! - RANGE[0]! + 1);
  for (let i = RANGE[0]!; i <= RANGE[1]!; i++) out.bulk(v.bytes, v.itemStart(i), v.itemEnd(i));
};

/** LINDEX key index: the key is looked at first (an absent key answers nil whatever the index). */
export const lindex: Command = (found, args, _argc, out) => {
  if (found.kind === ABSENT_KEY) return out.nil();
  if (!checkType(found, Kind.List, out)) return;
  let index = integerArg(args[1]!, out);
  if (index === undefined) return;
  const v = found.view;
  if (index < 0) index = v.items + index;
  if (index < 0 || index >= v.items) return out.nil();
  out.bulk(v.bytes, v.itemStart(index), v.itemEnd(index));
};

export const llen: Command = (found, _args, _argc, out) => {
  if (checkType(found, Kind.List, out)) out.integer(found.kind === ABSENT_KEY ? 0 : found.view.items);
};
