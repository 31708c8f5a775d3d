/**
 * The replies of one RESP connection, in request order: a ring of slots
 * addressed by sequence number. A slot holds a code (a value's length, an
 * `Outcome`, or the connection's own markers), the value or ready bytes, and
 * a tag naming the command it answers. Parallel typed arrays rather than an
 * object per reply, so a command costs no allocation; the ring doubles when
 * a client has more replies waiting than it holds.
 */

/** Sequence numbers wrap here: they stay small integers, and every ring size divides it. */
export const SEQ_MASK = 2 ** 30 - 1;

/** Slot code of a GET whose answer has not come (besides a value's length, ≥ 0, and the `Outcome`s). */
export const WAITING = -100;
/** Slot code of a reply made at once: its bytes are the slot's value. */
export const READY = -101;
/** As `READY`, and the connection closes once it is written (QUIT, a protocol error). */
export const READY_THEN_CLOSE = -102;

/** Tag bit: not the last slot of its command's reply (an MGET's header, and its elements but the last). */
export const PART = 0x80;

/** Reply slots from `head` (oldest not yet written) to `tail` (next to take). */
export class ReplyRing {
  codes = new Int32Array(64);
  values: (Buffer | undefined)[] = new Array<Buffer | undefined>(64);
  /** Per slot: the index of the command it answers, with `PART` unless it ends that command's reply. */
  tags = new Uint8Array(64);
  /** Ring size − 1; a sequence number's slot is `seq & mask`. */
  mask = 63;
  /** Sequence number of the oldest reply not yet written. */
  head = 0;
  /** Sequence number the next reply gets. */
  tail = 0;

  /** Replies taken and not yet written. */
  get waiting(): number {
    return (this.tail - this.head) & SEQ_MASK;
  }

  /** Takes the next slot and returns its index. */
  push(): number {
    if (this.waiting === this.mask + 1) this.#grow();
    const i = this.tail & this.mask;
    this.tail = (this.tail + 1) & SEQ_MASK;
    return i;
  }

  #grow(): void {
    const size = (this.mask + 1) * 2;
    const codes = new Int32Array(size);
    const values = new Array<Buffer | undefined>(size);
    const tags = new Uint8Array(size);
    for (let seq = this.head; seq !== this.tail; seq = (seq + 1) & SEQ_MASK) {
      codes[seq & (size - 1)] = this.codes[seq & this.mask]!;
      values[seq & (size - 1)] = this.values[seq & this.mask];
      tags[seq & (size - 1)] = this.tags[seq & this.mask]!;
    }
    this.codes = codes;
    this.values = values;
    this.tags = tags;
    this.mask = size - 1;
  }
}
