/**
 * Hands large reply batches back to the shard that sent them, once every
 * answer written from them has left the process, so that the shard fills
 * the same memory again instead of allocating a fresh buffer per batch
 * (`RETURN_MIN_BYTES` in `src/hop/buffer-pool.ts` says why that matters for large
 * values).
 *
 * The answers are views into the batch; an answer still queued in a socket
 * would read freed bytes if the buffer went back too early. So each answer's
 * sink is asked, one turn after the batch was answered, whether it has let
 * go of its value (`Sink.released`: an HTTP response finished, a RESP
 * connection with nothing pending); if one has not, later looks are made,
 * and a batch still held after them is left to the garbage collector, as
 * every batch was before. Costs one record per large batch, two array stores
 * per answer in it, and a look per answer each time; nothing for batches
 * below the threshold.
 */
import type { MessagePort } from 'node:worker_threads';
import { markReturned, RETURN_MIN_BYTES } from '../hop/buffer-pool.js';
import type { Sink } from './sink.js';

/**
 * A batch still held one turn after its answers (a large value still
 * draining into a slow socket) is looked at again every `LATER_MS`, up to
 * `LOOKS` times, then left to the garbage collector.
 */
const LATER_MS = 5;
const LOOKS = 40;

/** One large batch being answered: where it goes back to, and who holds views of it. */
export class Watched {
  readonly batch: ArrayBuffer;
  readonly port: MessagePort;
  readonly sinks: Sink[] = [];
  readonly tokens: unknown[] = [];
  looks = 0;

  constructor(batch: ArrayBuffer, port: MessagePort) {
    this.batch = batch;
    this.port = port;
  }

  /** An answer of this batch went to `sink` for `token`. */
  note(sink: Sink, token: unknown): void {
    this.sinks.push(sink);
    this.tokens.push(token);
  }
}

/** A record for `batch` when it is large enough to hand back, else undefined. */
export function watch(batch: ArrayBuffer, port: MessagePort): Watched | undefined {
  return batch.byteLength >= RETURN_MIN_BYTES ? new Watched(batch, port) : undefined;
}

/** Call once the batch's answers have all been given: it goes back when they have all left. */
export function answered(w: Watched): void {
  setImmediate(check, w);
}

function check(w: Watched): void {
  for (let i = 0; i < w.sinks.length; i++) {
    if (w.sinks[i]!.released(w.tokens[i])) continue;
    if (++w.looks <= LOOKS) setTimeout(check, LATER_MS, w).unref();
    return;
  }
  markReturned(w.batch);
  // A closed port (the shard died) drops it: nothing is lost.
  w.port.postMessage(w.batch, [w.batch]);
}
