/**
 * The set reads: SMEMBERS, SISMEMBER, SMISMEMBER, SCARD. SMEMBERS answers
 * the members in the order Redis gave them when the entry was fetched
 * (its own iteration order), so a cached answer is the one Redis would give
 * until the set changes, which invalidates the entry.
 */
import { Kind } from '../../cache/typed-value.js';
import { ABSENT_KEY, checkType, type Command } from './found.js';

export const smembers: Command = (found, _args, _argc, out) => {
  if (!checkType(found, Kind.Set, out)) return;
  const v = found.view;
  const n = found.kind === ABSENT_KEY ? 0 : v.items;
  out.set(n);
  for (let i = 0; i < n; i++) out.bulk(v.bytes, v.itemStart(i), v.itemEnd(i));
};

export const sismember: Command = (found, args, _argc, out) => {
  if (checkType(found, Kind.Set, out)) out.integer(found.kind !== ABSENT_KEY && found.view.find(args[1]!, 1) >= 0 ? 1 : 0);
};

export const smismember: Command = (found, args, argc, out) => {
  if (!checkType(found, Kind.Set, out)) return;
  out.array(argc - 1);
  for (let a = 1; a < argc; a++) out.integer(found.kind !== ABSENT_KEY && found.view.find(args[a]!, 1) >= 0 ? 1 : 0);
};

export const scard: Command = (found, _args, _argc, out) => {
  if (checkType(found, Kind.Set, out)) out.integer(found.kind === ABSENT_KEY ? 0 : found.view.items);
};
