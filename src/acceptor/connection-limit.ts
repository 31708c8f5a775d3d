/**
 * MAX_CONNECTIONS for one listener across every acceptor: the kernel hands a
 * new connection to whichever acceptor it picks, so the open connections are
 * counted in a process-wide shared count, changed with Atomics on accept and
 * on close. Per connection, not per request: one add, one listener, one sub.
 */
import type net from 'node:net';
import { AcceptorStat } from '../metrics/acceptor-stats.js';
import type { Protocol } from '../hop/vocabulary.js';

/** The limit of one protocol's listener, as one acceptor applies it. */
export class ConnectionLimit {
  readonly #shared: Int32Array;
  readonly #protocol: Protocol;
  readonly #max: number;
  readonly #stats: Float64Array;

  /**
   * `shared[protocol]` is the process-wide count (`ProcessCounters.connections`);
   * this acceptor's own open, accepted and refused connections go to `stats`.
   */
  constructor(shared: Int32Array, protocol: Protocol, max: number, stats: Float64Array) {
    this.#shared = shared;
    this.#protocol = protocol;
    this.#max = max;
    this.#stats = stats;
  }

  /** Open connections of this protocol, all acceptors together. */
  get open(): number {
    return Atomics.load(this.#shared, this.#protocol);
  }

  /** Counts a new connection in, or closes it at once when MAX_CONNECTIONS are open; returns whether it was let in. */
  admit(socket: net.Socket): boolean {
    const p = this.#protocol;
    if (Atomics.add(this.#shared, p, 1) >= this.#max) {
      Atomics.sub(this.#shared, p, 1);
      this.#stats[AcceptorStat.Refused + p]!++;
      socket.destroy();
      return false;
    }
    this.#stats[AcceptorStat.Connections + p]!++;
    this.#stats[AcceptorStat.Accepted + p]!++;
    socket.once('close', this.#release);
    return true;
  }

  readonly #release = (): void => {
    Atomics.sub(this.#shared, this.#protocol, 1);
    this.#stats[AcceptorStat.Connections + this.#protocol]!--;
  };
}
