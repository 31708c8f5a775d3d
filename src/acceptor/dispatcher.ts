/**
 * An acceptor's side of the hop: it gives each request an id, batches the
 * requests of one event-loop turn per shard, posts each batch once, and
 * routes reply batches back to whoever asked. It counts what it hands to
 * each shard and bounds it (`handOffBound`), for memory; which misses may
 * wait on Redis is the shard's to decide (MAX_INFLIGHT, `shard/miss-limit.ts`).
 *
 * In-flight requests live in parallel arrays indexed by id, with a free list
 * of ids, so a request costs no object and no closure here. Ids are this
 * acceptor's own; a shard answers over the port the batch came by.
 */
import type { MessagePort } from 'node:worker_threads';
import { ETAG_BYTES } from '../cache/etag.js';
import { newOwnInflight } from '../hop/shared.js';
import { BatchReader, BatchWriter } from '../hop/wire.js';
import { Outcome } from '../hop/vocabulary.js';
import { answered, watch, type Watched } from './batch-return.js';
import { ENCODED_ANSWER, type Sink } from './sink.js';
import { ENCODED } from '../hop/wire-reader.js';

const NO_SHARD = 0xffff;

/**
 * A shard's batch is posted as soon as it holds this many requests, without
 * waiting for the end of the turn. When many clients send at once (a burst,
 * or clients that fell into step), the shard starts on the first requests
 * while this thread still parses the rest, instead of the two threads taking
 * turns on one big batch.
 */
export const FLUSH_AT = 64;

/**
 * The hand-off bound of a shard, all acceptors together: room for the
 * MAX_INFLIGHT requests that may wait on Redis, plus one request from every
 * connection the listeners may hold (MAX_CONNECTIONS each), so that a burst
 * of every client at once is handed over whole. It bounds the memory of
 * requests between the threads, not Redis's load (the shard's `MissLimit`
 * does that); only pipelined clients of a shard that falls behind reach it.
 */
export function handOffBound(maxInflight: number, maxConnections: number, listeners: number): number {
  return Math.min(maxInflight + maxConnections * listeners, 2 ** 31 - 1);
}

/** Where a dispatcher counts; by default its own arrays (a single acceptor, or a test). */
export interface DispatcherCounters {
  /** Per shard: requests in flight for the whole process, changed with Atomics (`ProcessCounters.inflight`). */
  inflight?: Int32Array;
  /** Per shard: this acceptor's part of `inflight`, which the main thread takes back out if the acceptor dies. */
  own?: Int32Array;
  /** Per shard: requests refused with `Outcome.QueueFull`. */
  shed?: Float64Array;
}

/** Batches requests per shard, routes replies to their sinks, refuses requests beyond `maxQueued`. */
export class Dispatcher {
  readonly shards: number;
  /** Requests in flight per shard, all acceptors together, beyond which `submit` answers `Outcome.QueueFull` at once (`handOffBound`). */
  readonly maxQueued: number;
  /** Requests in flight, per shard, all acceptors together. */
  readonly inflightOf: Int32Array;
  /** This acceptor's requests in flight, per shard. */
  readonly own: Int32Array;
  /** Requests refused with `Outcome.QueueFull`, per shard. */
  readonly shed: Float64Array;
  readonly #ports: (MessagePort | undefined)[];
  /** The close listener of each attached port, to tell a late close of a replaced port from the current one's. */
  readonly #onClose: ((() => void) | undefined)[];
  /** The message listener of each attached port: replies, with the port to hand large batches back to. */
  readonly #onMessage: (((batch: ArrayBuffer) => void) | undefined)[];
  readonly #pending: BatchWriter[];
  readonly #reader = new BatchReader();
  #flushScheduled = false;

  #sinks: (Sink | undefined)[] = [];
  #tokens: unknown[] = [];
  #flags = new Uint8Array(0);
  #shardOf = new Uint16Array(0);
  #free = new Int32Array(0);
  #freeTop = 0;
  #inFlight = 0;

  constructor(shards: number, maxQueued = 2 ** 31 - 1, counters: DispatcherCounters = {}) {
    this.shards = shards;
    this.maxQueued = maxQueued;
    this.inflightOf = counters.inflight ?? newOwnInflight(shards);
    this.own = counters.own ?? newOwnInflight(shards);
    this.shed = counters.shed ?? new Float64Array(shards);
    this.#ports = new Array<MessagePort | undefined>(shards).fill(undefined);
    this.#onClose = new Array<(() => void) | undefined>(shards).fill(undefined);
    this.#onMessage = new Array<((batch: ArrayBuffer) => void) | undefined>(shards).fill(undefined);
    this.#pending = Array.from({ length: shards }, () => new BatchWriter());
    this.#grow(1024);
  }

  /** Requests submitted and not yet answered. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Whether `shard` has a worker attached (false while one is being replaced). */
  attached(shard: number): boolean {
    return this.#ports[shard] !== undefined;
  }

  /**
   * Starts sending `shard`'s batches to `port` and reading its replies from
   * it. A port already attached for `shard` belongs to a worker that died:
   * its requests are answered `ShardDown` first. When the shard's end of the
   * port closes (its worker died), the shard is detached the same way.
   */
  attach(shard: number, port: MessagePort): void {
    if (this.#ports[shard] !== undefined) this.detach(shard, Outcome.ShardDown);
    this.#ports[shard] = port;
    const onMessage = (batch: ArrayBuffer): void => this.#onReply(batch, port);
    this.#onMessage[shard] = onMessage;
    port.on('message', onMessage);
    const onClose = (): void => {
      if (this.#onClose[shard] === onClose) this.detach(shard, Outcome.ShardDown);
    };
    this.#onClose[shard] = onClose;
    port.once('close', onClose);
  }

  /**
   * Stops talking to `shard` (its worker died or the proxy is stopping):
   * closes its port, so a late reply can never reach an id that was reused,
   * and answers each of its in-flight requests with `outcome`.
   */
  detach(shard: number, outcome: Outcome): void {
    const port = this.#ports[shard];
    this.#ports[shard] = undefined;
    this.#onClose[shard] = undefined;
    if (port !== undefined) {
      port.off('message', this.#onMessage[shard]!);
      port.close();
    }
    this.#onMessage[shard] = undefined;
    this.#pending[shard]!.clear();
    for (let id = 0; id < this.#shardOf.length; id++) {
      if (this.#shardOf[id] === shard) this.#answer(id, outcome, undefined, 0, undefined, -1);
    }
  }

  /**
   * Sends `key` to `shard`; `sink.answer(token, flags, …)` is called with the
   * result. A shard that is down or already has `maxQueued` requests in
   * flight is answered at once, never queued.
   */
  submit(shard: number, key: string, sink: Sink, token: unknown, flags: number): void {
    const id = this.#take(shard, sink, token, flags);
    if (id < 0) return;
    const pending = this.#pending[shard]!;
    pending.addKey(id, key, sink.protocol);
    this.#queued(shard, pending);
  }

  /**
   * Sends the typed command `args[0, argc)` on `key` (HGET, LRANGE, …) to
   * `shard`, as `submit` does a GET: the shard answers with the whole
   * encoded reply, which `sink.answer` gets with `ENCODED_ANSWER` in its flags.
   */
  submitCommand(shard: number, key: string, args: readonly string[], argc: number, sink: Sink, token: unknown, flags: number): void {
    const id = this.#take(shard, sink, token, flags);
    if (id < 0) return;
    const pending = this.#pending[shard]!;
    pending.addCommand(id, key, sink.protocol, args, argc);
    this.#queued(shard, pending);
  }

  /** An id for a request to `shard`, or -1 when it was answered at once (shard down, or queue full). */
  #take(shard: number, sink: Sink, token: unknown, flags: number): number {
    if (this.#ports[shard] === undefined) {
      sink.answer(token, flags, Outcome.ShardDown, undefined, 0, undefined, -1);
      return -1;
    }
    if (Atomics.add(this.inflightOf, shard, 1) >= this.maxQueued) {
      Atomics.sub(this.inflightOf, shard, 1);
      this.shed[shard]!++;
      sink.answer(token, flags, Outcome.QueueFull, undefined, 0, undefined, -1);
      return -1;
    }
    if (this.#freeTop === 0) this.#grow(this.#free.length * 2);
    const id = this.#free[--this.#freeTop]!;
    this.#sinks[id] = sink;
    this.#tokens[id] = token;
    this.#flags[id] = flags;
    this.#shardOf[id] = shard;
    this.#inFlight++;
    this.own[shard]!++;
    return id;
  }

  /** Posts `shard`'s batch once full, else at the end of the turn. */
  #queued(shard: number, pending: BatchWriter): void {
    if (pending.length >= FLUSH_AT) this.#post(shard);
    else if (!this.#flushScheduled) {
      // setImmediate, not queueMicrotask: the microtask would run before the
      // next request of this turn is parsed, giving batches of one.
      this.#flushScheduled = true;
      setImmediate(this.#flush);
    }
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    for (let shard = 0; shard < this.shards; shard++) if (this.#pending[shard]!.length > 0) this.#post(shard);
  };

  #post(shard: number): void {
    const batch = this.#pending[shard]!.finish();
    this.#ports[shard]!.postMessage(batch, [batch]);
  }

  #onReply(batch: ArrayBuffer, port: MessagePort): void {
    const reader = this.#reader;
    const watched = watch(batch, port);
    reader.reset(batch);
    while (reader.next()) {
      const code = reader.code;
      if (code < 0) {
        this.#answer(reader.id, code, undefined, 0, undefined, -1);
        continue;
      }
      const buffer = reader.buffer;
      const at = reader.etagOffset;
      this.#answer(
        reader.id,
        code,
        buffer.subarray(reader.offset, reader.offset + code),
        reader.ageMs,
        at < 0 ? undefined : buffer.latin1Slice(at, at + ETAG_BYTES),
        reader.lifeMs,
        reader.meta & ENCODED ? ENCODED_ANSWER : 0,
        watched,
      );
    }
    if (watched !== undefined) answered(watched);
  }

  #answer(
    id: number,
    code: number,
    value: Buffer | undefined,
    ageMs: number,
    etag: string | undefined,
    lifeMs: number,
    encoded = 0,
    watched?: Watched,
  ): void {
    const sink = this.#sinks[id];
    if (sink === undefined) return;
    const token = this.#tokens[id];
    watched?.note(sink, token);
    this.#sinks[id] = undefined;
    this.#tokens[id] = undefined;
    const shard = this.#shardOf[id]!;
    Atomics.sub(this.inflightOf, shard, 1);
    this.own[shard]!--;
    this.#shardOf[id] = NO_SHARD;
    this.#free[this.#freeTop++] = id;
    this.#inFlight--;
    sink.answer(token, this.#flags[id]! | encoded, code, value, ageMs, etag, lifeMs);
  }

  #grow(size: number): void {
    const old = this.#free.length;
    const flags = new Uint8Array(size);
    flags.set(this.#flags);
    this.#flags = flags;
    const shardOf = new Uint16Array(size).fill(NO_SHARD);
    shardOf.set(this.#shardOf);
    this.#shardOf = shardOf;
    // Only ever grown when every id is in use, so the free ids are exactly the new ones.
    const free = new Int32Array(size);
    for (let id = size - 1; id >= old; id--) free[this.#freeTop++] = id;
    this.#free = free;
    this.#sinks.length = size;
    this.#tokens.length = size;
  }
}
