/**
 * What the HTTP front end reads of a hash, list, set or sorted set: the
 * whole value as JSON (a hash an object, a list or set an array, a sorted
 * set an array of [member, score] pairs in rank order), a range of a list
 * or sorted set (`?start=&stop=`, Redis's index rules), one hash field as
 * raw bytes (`?field=`). Scores are JSON numbers in Redis's own `%.17g`
 * text; `inf` and `-inf`, which JSON has no number for, are the strings
 * "inf" and "-inf".
 */
import { Kind, type TypedView } from '../../cache/typed-value.js';
import { HTTP_VIEWS } from '../../hop/vocabulary.js';
import { clampRange, parseInteger, RANGE } from './found.js';
import type { JsonWriter } from './json-writer.js';

/** The views' command names (`HTTP_VIEWS`). */
export const HTTP_JSON = HTTP_VIEWS.Json;
export const HTTP_RANGE = HTTP_VIEWS.Range;
export const HTTP_FIELD = HTTP_VIEWS.Field;

/** Writes items `[from, to]` (element indexes; for a hash or zset, pair indexes) of `v` as JSON. */
function items(v: TypedView, from: number, to: number, out: JsonWriter): void {
  const hash = v.kind === Kind.Hash;
  out.byte(hash ? 0x7b : 0x5b);
  for (let i = from; i <= to; i++) {
    if (i > from) out.byte(0x2c);
    if (hash) {
      out.key(v.bytes, v.itemStart(2 * i), v.itemEnd(2 * i));
      out.byte(0x3a);
      out.string(v.bytes, v.itemStart(2 * i + 1), v.itemEnd(2 * i + 1));
    } else if (v.kind === Kind.Zset) {
      out.byte(0x5b);
      out.string(v.bytes, v.itemStart(2 * i), v.itemEnd(2 * i));
      out.byte(0x2c);
      score(v, 2 * i + 1, out);
      out.byte(0x5d);
    } else {
      out.string(v.bytes, v.itemStart(i), v.itemEnd(i));
    }
  }
  out.byte(hash ? 0x7d : 0x5d);
}

function score(v: TypedView, item: number, out: JsonWriter): void {
  const text = v.bytes.latin1Slice(v.itemStart(item), v.itemEnd(item));
  out.raw(text === 'inf' || text === '-inf' ? `"${text}"` : text);
}

/** The whole value of `v` as JSON. */
export function valueJson(v: TypedView, out: JsonWriter): void {
  items(v, 0, v.length - 1, out);
}

/**
 * A range of a list or sorted set as JSON, with LRANGE's and ZRANGE's index
 * rules; false when `v` is of another type. `start` and `stop` were checked
 * as integers by the front end.
 */
export function rangeJson(v: TypedView, start: string, stop: string, out: JsonWriter): boolean {
  if (v.kind !== Kind.List && v.kind !== Kind.Zset) return false;
  if (clampRange(parseInteger(start) ?? 0, parseInteger(stop) ?? -1, v.length)) items(v, RANGE[0]!, RANGE[1]!, out);
  else out.raw('[]');
  return true;
}

/** The item index of hash field `field`'s value in `v`, -1 when absent. */
export function fieldItem(v: TypedView, field: string): number {
  const i = v.find(field, 2);
  return i < 0 ? -1 : i + 1;
}
