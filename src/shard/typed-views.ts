/**
 * The HTTP views of a typed entry (`http-views.ts`) as reply-batch entries:
 * JSON (`ENCODED`), a hash field's raw bytes, a string's raw bytes (a GET
 * that met a typed entry, asked again when it had become a string), or the
 * outcome that says why not. Apart from typed.ts to keep that file to its
 * flights.
 */
import type { Store } from '../cache/store.js';
import { MISS } from '../cache/store.js';
import { Kind } from '../cache/typed-value.js';
import type { BatchWriter } from '../hop/wire.js';
import { Outcome } from '../hop/vocabulary.js';
import { ABSENT_KEY, type Found, STRING } from './commands/found.js';
import { fieldItem, HTTP_FIELD, HTTP_JSON, HTTP_RANGE, rangeJson, valueJson } from './commands/http-views.js';
import type { JsonWriter } from './commands/json-writer.js';

/**
 * An HTTP view (`http-views.ts`, named by `args[0]`) of `found`: JSON
 * (`ENCODED`), a hash field's raw bytes, a string's raw bytes (a GET that
 * met a typed entry, asked again when it had become a string), or why not.
 * A cached entry's ETag tags each view of it: one URL's view changes only
 * when the entry does.
 */
export function answerView(
  replies: BatchWriter,
  id: number,
  found: Found,
  age: number,
  entry: number,
  c: Store,
  args: readonly string[],
  json: JsonWriter,
): void {
  const life = found.kind === ABSENT_KEY ? -1 : found.lifeMs;
  const name = args[0]!;
  if (found.kind === ABSENT_KEY) return replies.addOutcome(id, Outcome.NotFound);
  if (found.kind === STRING) {
    if (name !== HTTP_JSON) return replies.addOutcome(id, Outcome.WrongType);
    return raw(c, replies, id, found.bytes, found.start, found.end, age, life, entry);
  }
  const v = found.view;
  if (v.kind === Kind.Stream || (name === HTTP_FIELD && v.kind !== Kind.Hash)) return replies.addOutcome(id, Outcome.WrongType);
  if (name === HTTP_FIELD) {
    const i = fieldItem(v, args[1]!);
    if (i < 0) return replies.addOutcome(id, Outcome.NotFound);
    return raw(c, replies, id, v.bytes, v.itemStart(i), v.itemEnd(i), age, life, entry);
  }
  const out = json.reset();
  let src = v.bytes;
  let start = v.jsonStart;
  let length = v.jsonLength;
  // The whole value's JSON was rendered when it was read (`withJson`): copied, not made again.
  if (name !== HTTP_JSON || length === 0) {
    if (name === HTTP_RANGE) {
      if (!rangeJson(v, args[1]!, args[2]!, out)) return replies.addOutcome(id, Outcome.WrongType);
    } else valueJson(v, out);
    src = out.buf;
    start = 0;
    length = out.length;
  }
  if (entry === MISS) replies.addEncoded(id, src, start, length, age, life);
  else replies.addEncoded(id, src, start, length, age, life, c.etagHigh(entry), c.etagLow(entry));
}

/** Raw bytes `src[start, end)`, tagged with `entry`'s ETag when it is cached. */
function raw(
  c: Store,
  replies: BatchWriter,
  id: number,
  src: Buffer,
  start: number,
  end: number,
  age: number,
  life: number,
  entry: number,
): void {
  if (entry === MISS) replies.addValue(id, src.subarray(start, end), age, undefined, life);
  else replies.addStored(id, src, start, end - start, age, c.etagHigh(entry), c.etagLow(entry), life);
}
