/**
 * MAX_INFLIGHT as the shard keeps it: requests waiting on Redis, that is
 * misses that started a fetch and misses that joined one in flight. A miss
 * past the bound is refused at once (`Outcome.Overloaded`, 503 with
 * Retry-After); hits are never counted, so a burst of them is answered in
 * full however large (issue 25: 4,000 clients polling one cached key had
 * 1,500–2,200 refused while the limit counted every request handed over).
 *
 * The shard owns the count, so it holds for all acceptors together with no
 * shared memory: every acceptor's batches for this shard come to this one
 * thread. A background refresh is nobody's request and is not counted.
 */
import { REFRESH } from './refresh.js';

/** Counts a shard's requests waiting on Redis and refuses misses past `max`. */
export class MissLimit {
  /** MAX_INFLIGHT: requests that may wait on Redis at once. */
  readonly max: number;
  /** Requests waiting on Redis now (a gauge). */
  waiting = 0;
  /** Misses refused since this shard started: counted by the shard, which may answer a refused miss stale instead. */
  shed = 0;

  constructor(max: number) {
    this.max = max;
  }

  /** Whether one more miss may wait on Redis; counts it as waiting when it may. */
  admit(): boolean {
    if (this.waiting >= this.max) return false;
    this.waiting++;
    return true;
  }

  /** One request that waited alone (a forwarded command, `forward.ts`) waits no more. */
  release(): void {
    this.waiting--;
  }

  /** A flight landed with `waiters`: they wait no more (its refresh, always first when there is one, never did). */
  landed(waiters: readonly number[]): void {
    this.waiting -= waiters.length > 0 && waiters[0] === REFRESH ? waiters.length - 1 : waiters.length;
  }
}
