/** The sorted-set reads but ranges: ZSCORE, ZMSCORE, ZCARD, ZRANK, ZREVRANK (ranges: zrange.ts). */
import { Kind } from '../../cache/typed-value.js';
import { ABSENT_KEY, checkType, type Command } from './found.js';

export const zscore: Command = (found, args, _argc, out) => {
  if (found.kind === ABSENT_KEY) return out.nil();
  if (!checkType(found, Kind.Zset, out)) return;
  const v = found.view;
  const i = v.find(args[1]!, 2);
  if (i < 0) return out.nil();
  out.double(v.bytes, v.itemStart(i + 1), v.itemEnd(i + 1));
};

export const zmscore: Command = (found, args, argc, out) => {
  if (!checkType(found, Kind.Zset, out)) return;
  const v = found.view;
  out.array(argc - 1);
  for (let a = 1; a < argc; a++) {
    const i = found.kind === ABSENT_KEY ? -1 : v.find(args[a]!, 2);
    if (i < 0) out.nil();
    else out.double(v.bytes, v.itemStart(i + 1), v.itemEnd(i + 1));
  }
};

export const zcard: Command = (found, _args, _argc, out) => {
  if (checkType(found, Kind.Zset, out)) out.integer(found.kind === ABSENT_KEY ? 0 : found.view.length);
};

function rank(reverse: boolean): Command {
  return (found, args, _argc, out) => {
    if (found.kind === ABSENT_KEY) return out.nil();
    if (!checkType(found, Kind.Zset, out)) return;
    const i = found.view.find(args[1]!, 2);
    if (i < 0) return out.nil();
    out.integer(reverse ? found.view.length - 1 - i / 2 : i / 2);
  };
}

export const zrank = rank(false);
export const zrevrank = rank(true);
