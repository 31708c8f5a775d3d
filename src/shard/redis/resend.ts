/**
 * One more try for a read whose connection dropped under it. A Redis
 * `timeout`, a load balancer, a NAT table or an operator's `CLIENT KILL`
 * closes one connection of a healthy server: what was in flight on it, and
 * what arrives while it is re-established (a few milliseconds: the first
 * reconnect attempt is immediate), would otherwise answer 503. Such a read
 * is sent again once, when the connection is ready again, if that happens
 * within REDIS_TIMEOUT_MS of the read's first send.
 *
 * Failing fast while Redis is really away stays as it was: once an attempt
 * to connect has failed (refused, unreachable), every read waiting here and
 * every read failing from then on is answered at once, until the connection
 * is ready again. ioredis' own offline queue and resend stay off: they would
 * hold reads without that distinction and without the deadline.
 *
 * Coherence needs nothing from here: a dropped data connection turns
 * caching off until tracking is armed on the new one, and arming poisons
 * every fetch in flight (coherence.ts), so a value read again on the new
 * connection is answered and never cached from before the arm.
 *
 * Costs nothing per request: a promise and a timer per failed command only.
 */
import type { EventEmitter } from 'node:events';

/** What the gate watches: an ioredis `Redis` or `Cluster`. */
export interface Reconnecting extends EventEmitter {
  readonly status: string;
}

/** Decides when, and whether, a read whose command failed is sent again. */
export class ResendGate {
  readonly #conn: Reconnecting;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  /** A connect attempt failed since the connection was last ready: Redis is away, fail fast. */
  #unreachable = false;
  #waiters: ((ready: boolean) => void)[] = [];

  /**
   * `timeoutMs` is REDIS_TIMEOUT_MS; `now` the monotonic clock (ms) the
   * callers' start times are on.
   */
  constructor(conn: Reconnecting, timeoutMs: number, now: () => number) {
    this.#conn = conn;
    this.#timeoutMs = timeoutMs;
    this.#now = now;
    conn.on('ready', () => {
      this.#unreachable = false;
      this.#release(true);
    });
    conn.on('error', (err: Error & { code?: string }) => {
      // An error while connecting is a failed attempt; one on an open
      // connection (a reset, even one reported once the reconnect has
      // begun) is followed by a reconnect, which decides.
      if (conn.status !== 'connecting' && conn.status !== 'connect') return;
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return;
      this.#unreachable = true;
      this.#release(false);
    });
    conn.on('end', () => this.#release(false));
  }

  /**
   * Resolves `true` when a read first sent at `started` (on `now`'s clock)
   * may go out again now: the connection is ready, within `timeoutMs` of
   * `started`. Resolves `false` at once while Redis is unreachable, and
   * otherwise when the deadline passes or a connect attempt fails first.
   */
  wait(started: number): Promise<boolean> {
    const left = started + this.#timeoutMs - this.#now();
    if (left <= 0 || this.#unreachable || this.#conn.status === 'end') return Promise.resolve(false);
    if (this.#conn.status === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(settle);
        if (i >= 0) this.#waiters.splice(i, 1);
        resolve(false);
      }, left).unref();
      const settle = (ready: boolean): void => {
        clearTimeout(timer);
        resolve(ready);
      };
      this.#waiters.push(settle);
    });
  }

  #release(ready: boolean): void {
    const waiters = this.#waiters;
    if (waiters.length === 0) return;
    this.#waiters = [];
    for (let i = 0; i < waiters.length; i++) waiters[i]!(ready);
  }
}
