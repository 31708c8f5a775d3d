/**
 * Writing a connection's ready replies: the filled slots at the head of its
 * reply ring (`reply-ring.ts`) go out in one chunk, sized in a first pass
 * and filled in a second; a large value is written as its own chunk instead
 * of being copied, with the socket corked so the pieces still leave
 * together. Each command is counted by name and outcome when the last slot
 * of its reply is written. Apart from `connection.ts`, which decides when to
 * write; this file only knows how.
 */
import type net from 'node:net';
import { RESP_STATUSES } from '../../metrics/labels.js';
import { NIL, OK, OUTCOME_REPLIES, OUTCOME_STATUS, readyStatus } from './outcomes.js';
import { bulkHeaderBytes, writeBulkHeader } from './reply.js';
import { PART, READY, READY_THEN_CLOSE, type ReplyRing, SEQ_MASK, WAITING } from './reply-ring.js';

/** Values at least this long are written as their own chunk instead of being copied. */
const LARGE_VALUE = 16384;

/** Writes one connection's ready slots; its fields describe the slots `measure` found, reused for every flush. */
export class SlotWriter {
  /** Ready slots at the head, up to the first still waiting (or a closing reply). */
  count = 0;
  /** Bytes those slots take on the wire, large values excepted. */
  bytes = 0;
  /** Whether one of them is a large value (written as its own chunk). */
  large = false;
  readonly #ring: ReplyRing;
  /** Commands answered, `counts[command * RESP_STATUSES.length + status]`. */
  readonly #counts: Float64Array;
  /** The worst status among the written slots of the reply being written. */
  #worst = NIL;

  constructor(ring: ReplyRing, counts: Float64Array) {
    this.#ring = ring;
    this.#counts = counts;
  }

  /** Sizes the ready slots at the ring's head: sets `count`, `bytes` and `large`. */
  measure(): void {
    const { codes, values, mask } = this.#ring;
    let count = 0;
    let bytes = 0;
    let large = false;
    for (let seq = this.#ring.head; seq !== this.#ring.tail; seq = (seq + 1) & SEQ_MASK) {
      const code = codes[seq & mask]!;
      if (code === WAITING) break;
      count++;
      if (code >= LARGE_VALUE) large = true;
      if (code >= 0) bytes += bulkHeaderBytes(code) + (code >= LARGE_VALUE ? 0 : code) + 2;
      else bytes += (code <= READY ? values[seq & mask]! : OUTCOME_REPLIES[code]!).length;
      if (code === READY_THEN_CLOSE) break;
    }
    this.count = count;
    this.bytes = bytes;
    this.large = large;
  }

  /** Writes the slots `measure` found to `socket` and frees them; true when one asked to close the connection. */
  write(socket: net.Socket): boolean {
    const { codes, values, mask } = this.#ring;
    const count = this.count;
    const out = Buffer.allocUnsafe(this.bytes);
    let at = 0;
    let start = 0;
    let close = false;
    if (this.large) socket.cork();
    let seq = this.#ring.head;
    for (let n = 0; n < count; n++, seq = (seq + 1) & SEQ_MASK) {
      const i = seq & mask;
      const code = codes[i]!;
      const value = values[i];
      values[i] = undefined;
      this.#count(this.#ring.tags[i]!, code >= 0 ? OK : code <= READY ? readyStatus(value!) : OUTCOME_STATUS[-code]!);
      if (code >= 0) {
        at = writeBulkHeader(out, at, code);
        if (code >= LARGE_VALUE) {
          socket.write(out.subarray(start, at));
          socket.write(value!);
          start = at;
        } else {
          at += value!.copy(out, at);
        }
        out[at++] = 13;
        out[at++] = 10;
      } else {
        at += (code <= READY ? value! : OUTCOME_REPLIES[code]!).copy(out, at);
        close = code === READY_THEN_CLOSE;
      }
    }
    this.#ring.head = seq;
    if (at > start) socket.write(out.subarray(start, at));
    if (this.large) socket.uncork();
    return close;
  }

  /** Folds a written slot's `status` into its reply's; the last slot of a reply counts its command. */
  #count(tag: number, status: number): void {
    const worst = Math.max(status, this.#worst);
    this.#worst = tag & PART ? worst : NIL;
    if ((tag & PART) === 0) this.#counts[tag * RESP_STATUSES.length + worst]!++;
  }
}
