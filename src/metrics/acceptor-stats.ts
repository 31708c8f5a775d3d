/**
 * An acceptor thread's figures, shared with the main thread through one
 * SharedArrayBuffer per acceptor, as `shard-stats.ts` does for shards: the
 * acceptor writes plain numbers as it works (it is each slot's only writer),
 * and the main thread reads them when `/metrics` or `/stats.json` is asked
 * for. A replacement acceptor is handed the same array, so its counters carry
 * on where the dead one's stopped.
 *
 * The request counts by method and status (HTTP) and by command and outcome
 * (RESP) are views into this array: the front ends count into shared memory
 * directly, with no copy and no message.
 */
import { RESP_COMMANDS, RESP_STATUSES } from './labels.js';
import { PROTOCOLS } from '../hop/vocabulary.js';

/** Rows of the HTTP request counts: GET, HEAD, and anything else (refused). */
export const HTTP_METHODS = ['GET', 'HEAD', 'other'] as const;
/** Columns of the HTTP request counts: every status code below this. */
export const HTTP_STATUSES = 600;

const P = PROTOCOLS.length;

/** Slot of each figure in an acceptor's stats array. */
export const AcceptorStat = {
  /** Event-loop delay over the last window, seconds: median, 99th percentile, maximum. */
  LoopP50: 0,
  LoopP99: 1,
  LoopMax: 2,
  /** The thread's Linux thread id (0 where unknown), for its CPU time in /proc. */
  Tid: 3,
  /** The thread's Node `threadId` (0: the main thread), which names its `--cpu-prof` file. */
  ThreadId: 4,
  /** Gauge: 1 while the acceptor listens on every port it should. */
  Listening: 5,
  /** HTTP requests that reached the handler (answered or not yet). */
  Received: 6,
  /** Per protocol: client connections open now. */
  Connections: 7,
  /** Per protocol: client connections accepted since start. */
  Accepted: 7 + P,
  /** Per protocol: connections closed at once because MAX_CONNECTIONS were open. */
  Refused: 7 + 2 * P,
  /** HTTP answers: `HTTP_METHODS.length × HTTP_STATUSES` counts, `[method * HTTP_STATUSES + status]`. */
  Http: 7 + 3 * P,
  /** RESP commands: `RESP_COMMANDS.length × RESP_STATUSES.length` counts, `[command * RESP_STATUSES.length + status]`. */
  Resp: 7 + 3 * P + HTTP_METHODS.length * HTTP_STATUSES,
  /** Per shard: requests refused because the shard's hand-off bound was reached (`handOffBound`). */
  Shed: 7 + 3 * P + HTTP_METHODS.length * HTTP_STATUSES + RESP_COMMANDS.length * RESP_STATUSES.length,
} as const;

/** A zeroed stats array for an acceptor of a proxy with `shards` shards. */
export function newAcceptorStats(shards: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer((AcceptorStat.Shed + shards) * Float64Array.BYTES_PER_ELEMENT));
}

/** The HTTP counts of `stats`: a view, written by the acceptor's HTTP front end. */
export function httpCounts(stats: Float64Array): Float64Array {
  return stats.subarray(AcceptorStat.Http, AcceptorStat.Http + HTTP_METHODS.length * HTTP_STATUSES);
}

/** The RESP counts of `stats`: a view, written by the acceptor's RESP connections. */
export function respCounts(stats: Float64Array): Float64Array {
  return stats.subarray(AcceptorStat.Resp, AcceptorStat.Resp + RESP_COMMANDS.length * RESP_STATUSES.length);
}

/** The per-shard shed counts of `stats`: a view, written by the acceptor's dispatcher. */
export function shedCounts(stats: Float64Array): Float64Array {
  return stats.subarray(AcceptorStat.Shed);
}
