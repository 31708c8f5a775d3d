/**
 * Answering a GET (a string read, over RESP or HTTP) from a cached entry:
 * the value's bytes, its absence, or WRONGTYPE for an entry of another type.
 * Apart from shard.ts so that the typed reads (typed.ts) answer their GET
 * waiters the same way.
 */
import { ABSENT, type Store } from '../cache/store.js';
import type { BatchWriter } from '../hop/wire.js';
import { Outcome } from '../hop/vocabulary.js';

/** Answers an HTTP GET of a typed entry with its JSON (`TypedReads`). */
export interface JsonAnswer {
  json(replies: BatchWriter, id: number, entry: number, age: number, now: number): void;
}

/**
 * Answers request `id` from the store's `entry`, `age` ms old: its bytes are
 * copied into the reply batch now. A typed entry answers WRONGTYPE, or its
 * JSON through `json` (an HTTP GET).
 */
export function answerGet(replies: BatchWriter, c: Store, id: number, entry: number, age: number, now: number, json?: JsonAnswer): void {
  const length = c.valueLength(entry);
  if (length === ABSENT) replies.addOutcome(id, Outcome.NotFound);
  else if (c.typed(entry)) {
    if (json === undefined) replies.addOutcome(id, Outcome.WrongType);
    else json.json(replies, id, entry, age, now);
  } else replies.addStored(id, c.page(entry), c.valueStart(entry), length, age, c.etagHigh(entry), c.etagLow(entry), c.lifeMs(entry, now));
}
