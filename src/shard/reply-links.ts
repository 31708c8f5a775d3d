/**
 * A shard's links to the acceptor threads, one per acceptor, and the reply
 * batch being filled for each. A request's answer goes back over the link it
 * came by; answers that land in one turn share one batch per link, sent at
 * the end of the turn.
 */
import { BatchWriter } from '../hop/wire.js';

/**
 * A flight's waiter is one number: its request id on its link, plus the link
 * times this. Ids are int32 (`wire.ts`), and links below 2^22 keep the sum an
 * exact integer in a double, so a waiter costs no object. A negative waiter
 * (a background refresh) belongs to no link.
 */
export const LINK_SPAN = 0x80000000;

/** Where a link's replies go: its sender and the reply batch being filled for it. */
export interface Link {
  send: (batch: ArrayBuffer) => void;
  replies: BatchWriter;
  /** Queued to be flushed at the end of the turn. */
  dirty: boolean;
}

/** See the file comment. */
export class ReplyLinks {
  /** By link number; a closed link's slot is `undefined` (its late answers are dropped). */
  readonly #links: (Link | undefined)[] = [];
  /** Links holding answers that landed this turn. */
  readonly #dirty: Link[] = [];
  #flushScheduled = false;
  readonly #flushed: () => void;

  /** `flushed` runs after each end-of-turn flush (the shard publishes its figures). */
  constructor(flushed: () => void) {
    this.#flushed = flushed;
  }

  /** Opens a link whose reply batches go to `send`; returns its number. */
  open(send: (batch: ArrayBuffer) => void): number {
    this.#links.push({ send, replies: new BatchWriter(), dirty: false });
    return this.#links.length - 1;
  }

  /** Closes link `n`: what it had collected is dropped, and so are later answers for it. */
  close(n: number): void {
    this.#links[n]?.replies.clear();
    this.#links[n] = undefined;
  }

  /** Link `n`, or `undefined` once closed. */
  get(n: number): Link | undefined {
    return this.#links[n];
  }

  /**
   * The reply batch of `waiter`'s link, marked to be sent at the end of the
   * turn; `undefined` when that link has closed or the waiter has none.
   */
  replyTo(waiter: number): BatchWriter | undefined {
    const link = this.#links[Math.floor(waiter / LINK_SPAN)];
    if (link === undefined) return undefined;
    if (!link.dirty) {
      link.dirty = true;
      this.#dirty.push(link);
    }
    return link.replies;
  }

  /** Sends the marked links' batches at the end of this turn: fetches that complete in the same turn share them. */
  flushSoon(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(this.#flushLater);
  }

  readonly #flushLater = (): void => {
    this.#flushScheduled = false;
    const dirty = this.#dirty;
    for (let i = 0; i < dirty.length; i++) {
      const link = dirty[i]!;
      link.dirty = false;
      // Empty when `receive` sent them already, or the link closed.
      if (link.replies.length > 0) link.send(link.replies.finish());
    }
    dirty.length = 0;
    this.#flushed();
  };
}
