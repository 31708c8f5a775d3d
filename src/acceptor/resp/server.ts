/**
 * The RESP listener: a `node:net` server whose connections (`connection.ts`)
 * send GETs through the same dispatcher, shards, cache and coalescing as the
 * HTTP front end. Off unless RESP_PORT is set.
 */
import net from 'node:net';
import { NEXT_CLIENT_ID } from '../../hop/shared.js';
import { respCounts } from '../../metrics/acceptor-stats.js';
import type { ConnectionLimit } from '../connection-limit.js';
import type { Dispatcher } from '../dispatcher.js';
import { Password } from './auth.js';
import type { ConnectionContext, ServerFacts } from './session.js';
import { RespConnection } from './connection.js';
import type { ParserLimits } from './parser.js';

export interface RespOptions {
  maxKeyBytes: number;
  /** MAX_CONNECTIONS, counted across every acceptor. */
  limit: ConnectionLimit;
  /** The acceptor's stats array (`newAcceptorStats`): commands are counted in it. */
  stats: Float64Array;
  /** `ProcessCounters.connections`, whose `NEXT_CLIENT_ID` slot numbers the connections of every acceptor. */
  clientIds: Int32Array;
  /** RESP_PASSWORD: clients must AUTH with it first; '' or undefined: no AUTH needed. */
  password?: string;
}

/**
 * Limits on one command. Keys are checked against MAX_KEY_BYTES after
 * parsing (an error reply, the connection stays); these protocol limits are
 * a fixed ceiling above it (an error reply, then the connection closes).
 */
export const RESP_LIMITS: ParserLimits = {
  // MAX_KEY_BYTES is at most 64 KiB, so every acceptable key fits.
  maxBulkBytes: 65536,
  maxArgs: 65536,
  maxCommandBytes: 16 * 1024 * 1024,
  // Redis's own inline limit.
  maxInlineBytes: 65536,
};

export class RespServer implements ConnectionContext, ServerFacts {
  readonly server: net.Server;
  readonly dispatcher: Dispatcher;
  readonly limits = RESP_LIMITS;
  readonly maxKeyBytes: number;
  readonly password: Password | undefined;
  readonly startedAt = Date.now();
  /** Commands answered by every connection: `counts[command * RESP_STATUSES.length + status]`, a view into the acceptor's stats. */
  readonly counts: Float64Array;
  readonly #open = new Set<RespConnection>();
  readonly #limit: ConnectionLimit;
  readonly #clientIds: Int32Array;
  #dirty: RespConnection[] = [];
  #flushing: RespConnection[] = [];
  #flushQueued = false;

  constructor(dispatcher: Dispatcher, options: RespOptions) {
    this.dispatcher = dispatcher;
    this.maxKeyBytes = options.maxKeyBytes;
    this.password = options.password ? new Password(options.password) : undefined;
    // Half-open: a client may send its commands and shut its side down
    // (`printf … | nc`); its replies are still written before we close.
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, this.#onConnection);
    this.counts = respCounts(options.stats);
    this.#limit = options.limit;
    this.#clientIds = options.clientIds;
  }

  get facts(): ServerFacts {
    return this;
  }

  get shards(): number {
    return this.dispatcher.shards;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo | null)?.port ?? 0;
  }

  /** Open RESP connections of the whole process (INFO's connected_clients). */
  get connections(): number {
    return this.#limit.open;
  }

  markDirty(connection: RespConnection): void {
    this.#dirty.push(connection);
    if (this.#flushQueued) return;
    // A microtask runs once the dispatcher has routed the whole reply batch,
    // so each connection writes once per batch, not once per answer.
    this.#flushQueued = true;
    queueMicrotask(this.#flushDirty);
  }

  forget(connection: RespConnection): void {
    this.#open.delete(connection);
  }

  /** Stops accepting and ends every connection. */
  close(): void {
    this.server.close();
    for (const connection of this.#open) connection.end();
  }

  readonly #onConnection = (socket: net.Socket): void => {
    if (this.#limit.admit(socket)) this.#open.add(new RespConnection(socket, Atomics.add(this.#clientIds, NEXT_CLIENT_ID, 1) + 1, this));
  };

  readonly #flushDirty = (): void => {
    this.#flushQueued = false;
    // Swap the lists: a flush may submit new GETs that mark connections dirty again.
    const dirty = this.#dirty;
    this.#dirty = this.#flushing;
    this.#flushing = dirty;
    for (let i = 0; i < dirty.length; i++) dirty[i]!.flushAnswers();
    dirty.length = 0;
  };
}
