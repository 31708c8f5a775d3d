/**
 * The counters every acceptor thread shares with the others, over
 * SharedArrayBuffers and changed with Atomics: the limits that hold for the
 * whole process whichever thread a request or a connection landed on.
 *
 * An atomic add on a shared cache line costs tens of nanoseconds; a request
 * pays two (in flight up, then down), against tens of microseconds of HTTP
 * work, which is why the limits can be exact rather than split per thread.
 */
import { PROTOCOLS } from './vocabulary.js';

/** The process-wide counters; one set per process, handed to every acceptor. */
export interface ProcessCounters {
  /** Per shard: requests handed to it and not answered, all acceptors together (the hand-off bound, `handOffBound`). */
  readonly inflight: Int32Array;
  /** Per `Protocol`: open client connections, all acceptors together (MAX_CONNECTIONS); then `NEXT_CLIENT_ID`. */
  readonly connections: Int32Array;
}

/** Slot of `connections` holding the last RESP client id handed out (`CLIENT ID` is unique per process). */
export const NEXT_CLIENT_ID = PROTOCOLS.length;

/** New zeroed counters for `shards` shards. */
export function newProcessCounters(shards: number): ProcessCounters {
  return {
    inflight: new Int32Array(new SharedArrayBuffer(shards * Int32Array.BYTES_PER_ELEMENT)),
    connections: new Int32Array(new SharedArrayBuffer((NEXT_CLIENT_ID + 1) * Int32Array.BYTES_PER_ELEMENT)),
  };
}

/** One acceptor's requests in flight per shard: its part of `ProcessCounters.inflight`, taken back out if it dies. */
export function newOwnInflight(shards: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(shards * Int32Array.BYTES_PER_ELEMENT));
}
