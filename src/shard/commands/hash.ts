/** The hash reads: HGET, HMGET, HGETALL, HKEYS, HVALS, HLEN, HEXISTS, HSTRLEN. */
import { Kind } from '../../cache/typed-value.js';
import { ABSENT_KEY, checkType, type Command } from './found.js';

export const hget: Command = (found, args, _argc, out) => {
  if (!checkType(found, Kind.Hash, out)) return;
  const i = found.kind === ABSENT_KEY ? -1 : found.view.find(args[1]!, 2);
  if (i < 0) return out.nil();
  const v = found.view;
  out.bulk(v.bytes, v.itemStart(i + 1), v.itemEnd(i + 1));
};

export const hmget: Command = (found, args, argc, out) => {
  if (!checkType(found, Kind.Hash, out)) return;
  const v = found.view;
  out.array(argc - 1);
  for (let a = 1; a < argc; a++) {
    const i = found.kind === ABSENT_KEY ? -1 : v.find(args[a]!, 2);
    if (i < 0) out.nil();
    else out.bulk(v.bytes, v.itemStart(i + 1), v.itemEnd(i + 1));
  }
};

/** HGETALL (fields and values, a map in RESP3), HKEYS (`from` 0) and HVALS (`from` 1). */
function walk(from: number, both: boolean): Command {
  return (found, _args, _argc, out) => {
    if (!checkType(found, Kind.Hash, out)) return;
    const v = found.view;
    const pairs = found.kind === ABSENT_KEY ? 0 : v.items >>> 1;
    if (both) out.map(pairs);
    else out.array(pairs);
    for (let i = from; i < 2 * pairs; i += both ? 1 : 2) out.bulk(v.bytes, v.itemStart(i), v.itemEnd(i));
  };
}

export const hgetall = walk(0, true);
export const hkeys = walk(0, false);
export const hvals = walk(1, false);

export const hlen: Command = (found, _args, _argc, out) => {
  if (checkType(found, Kind.Hash, out)) out.integer(found.kind === ABSENT_KEY ? 0 : found.view.length);
};

export const hexists: Command = (found, args, _argc, out) => {
  if (checkType(found, Kind.Hash, out)) out.integer(found.kind !== ABSENT_KEY && found.view.find(args[1]!, 2) >= 0 ? 1 : 0);
};

export const hstrlen: Command = (found, args, _argc, out) => {
  if (!checkType(found, Kind.Hash, out)) return;
  const v = found.view;
  const i = found.kind === ABSENT_KEY ? -1 : v.find(args[1]!, 2);
  out.integer(i < 0 ? 0 : v.itemEnd(i + 1) - v.itemStart(i + 1));
};
