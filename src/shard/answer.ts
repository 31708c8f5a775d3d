/**
 * Answering a GET (a string read, over RESP or HTTP) from a cached entry:
 * the value's bytes, its absence, or WRONGTYPE for an entry of another type.
 * Apart from shard.ts so that the typed reads (typed.ts) answer their GET
 * waiters the same way.
 */
import { ABSENT, type Store } from '../cache/store.js';
import type { BatchWriter } from '../hop/wire.js';
import { Outcome } from '../hop/vocabulary.js';

/** Answers request `id` from the store's `entry`, `age` ms old: its bytes are copied into the reply batch now. */
export function answerGet(replies: BatchWriter, c: Store, id: number, entry: number, age: number, now: number): void {
  const length = c.valueLength(entry);
  if (length === ABSENT) replies.addOutcome(id, Outcome.NotFound);
  else if (c.typed(entry)) replies.addOutcome(id, Outcome.WrongType);
  else replies.addStored(id, c.page(entry), c.valueStart(entry), length, age, c.etagHigh(entry), c.etagLow(entry), c.lifeMs(entry, now));
}
