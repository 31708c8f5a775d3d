/**
 * One RESP client connection: bytes in → commands → replies out, in
 * request order.
 *
 * Replies wait in a ring of slots, one per reply (an MGET takes one for its
 * array header and one per key). A slot is filled when its answer is known:
 * at once for PING and errors, when the shard answers for a GET. Flushing
 * writes the filled slots from the head and stops at the first one still
 * waiting, so a hit queued behind a miss, or a key answered by a faster
 * shard, goes out in its turn. The slot's sequence number is the token the
 * dispatcher hands back, so a request costs no object and no closure.
 *
 * Reading pauses while too many replies wait or the socket's write buffer
 * is full, so a client that pipelines without reading cannot grow memory;
 * an EXEC's queued commands are run at the same pace, before what follows.
 *
 * How the ready slots are written, and each command counted as its reply
 * goes out, is `slot-writer.ts`.
 */
import type net from 'node:net';
import type { Credential } from '../../access/credentials.js';
import { ENCODED_ANSWER, type Sink } from '../sink.js';
import { SumSink } from '../sum-sink.js';
import { Outcome, Protocol, RESP3_FLAG } from '../../hop/vocabulary.js';
import { shardOf } from '../../routing/hash.js';
import { execute, OTHER_COMMAND } from './commands.js';
import { CommandParser, Parse } from './parser.js';
import { error, NULL3 } from './reply.js';
import { PART, READY, READY_THEN_CLOSE, ReplyRing, WAITING } from './reply-ring.js';
import { SlotWriter } from './slot-writer.js';
import { type ConnectionContext, IN_ARRAY, NIL3, type Queued, type Session } from './session.js';

/**
 * Stop reading while this many replies wait; read again below `LOW_WATER`.
 * Kept well under MAX_INFLIGHT's default (1000 per shard), so that one
 * client's deep pipeline is slowed by backpressure instead of being shed.
 */
const HIGH_WATER = 256;
const LOW_WATER = 64;

export class RespConnection implements Sink, Session {
  /** The meta of this connection's requests: `Protocol.Resp`, with `RESP3_FLAG` after `HELLO 3`. */
  protocol: number = Protocol.Resp;
  readonly id: number;
  name: string | null = null;
  authenticated = false;
  credential: Credential | undefined = undefined;
  command = OTHER_COMMAND;
  transaction: Queued | undefined = undefined;
  /** Whether `markDirty` was called and `flushAnswers` has not run since. */
  dirty = false;

  readonly #socket: net.Socket;
  readonly #context: ConnectionContext;
  readonly #parser: CommandParser;
  readonly #ring = new ReplyRing();
  /** Writes the ready replies and counts each command as its reply goes out. */
  readonly #out: SlotWriter;
  /** No more commands are run: QUIT, a protocol error, or the server is stopping. */
  #closing = false;
  /** The client half-closed: end our side once every command it sent is answered. */
  #inputEnded = false;
  /** The parser holds no complete command (its last `next()` said NeedMore) and no EXEC is being replayed. */
  #drained = true;
  /** The commands of an EXEC still to run, before anything the parser holds; from `#replayAt` on. */
  #replay: string[][] | undefined;
  #replayAt = 0;
  #closed = false;
  #paused = false;
  /**
   * Ready replies wait at the head behind a GET still in flight: any answer
   * may now be the one that lets them out, not only an answer at the head.
   */
  #held = false;

  constructor(socket: net.Socket, id: number, context: ConnectionContext) {
    this.#socket = socket;
    this.id = id;
    this.#context = context;
    this.#out = new SlotWriter(this.#ring, context.counts);
    this.#parser = new CommandParser(context.limits);
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('drain', this.#onDrain);
    socket.on('close', this.#onClose);
    // Resets and broken pipes are the client's business; 'close' follows.
    socket.on('error', () => {});
  }

  /** Ends the connection (the server is stopping). */
  end(): void {
    this.#closing = true;
    this.#finish();
  }

  reply(bytes: Buffer): void {
    const i = this.#ring.push();
    this.#ring.codes[i] = READY;
    this.#ring.values[i] = bytes;
    this.#ring.tags[i] = this.command;
  }

  replyAndClose(bytes: Buffer): void {
    this.reply(bytes);
    this.#ring.codes[(this.#ring.tail - 1) & this.#ring.mask] = READY_THEN_CLOSE;
    this.#closing = true;
  }

  get(key: string, flags: number): void {
    const seq = this.#wait();
    // An element makes the slot before it (the array header or the previous element) part of the same reply.
    if (flags & IN_ARRAY) this.#ring.tags[(seq - 1) & this.#ring.mask]! |= PART;
    if (this.protocol & RESP3_FLAG) flags |= NIL3;
    this.#context.dispatcher.submit(shardOf(key, this.#context.dispatcher.shards), key, this, seq, flags);
  }

  read(args: readonly string[], argc: number): void {
    const key = args[1]!;
    this.#context.dispatcher.submitCommand(shardOf(key, this.#context.dispatcher.shards), key, args, argc, this, this.#wait(), 0);
  }

  readSum(args: readonly string[], argc: number): void {
    const shards = this.#context.dispatcher.shards;
    new SumSink(this.#context.dispatcher, (key) => shardOf(key, shards), args, argc, this, this.#wait());
  }

  /** A slot waiting for a shard's answer; returns its sequence number. */
  #wait(): number {
    const seq = this.#ring.tail;
    const i = this.#ring.push();
    this.#ring.codes[i] = WAITING;
    this.#ring.tags[i] = this.command;
    return seq;
  }

  replay(commands: string[][]): void {
    if (commands.length === 0) return;
    this.#replay = commands;
    this.#replayAt = 0;
    this.#drained = false;
  }

  /** Called by the dispatcher with a shard's answer to the GET in slot `token`. */
  answer(token: unknown, flags: number, code: number, value: Buffer | undefined): void {
    if (this.#closed) return;
    const seq = token as number;
    const i = seq & this.#ring.mask;
    const nil = code === Outcome.NotFound || (flags & IN_ARRAY && code === Outcome.WrongType);
    if (flags & ENCODED_ANSWER && code >= 0) {
      // A typed command's answer is its whole reply, written as it is.
      this.#ring.codes[i] = READY;
      this.#ring.values[i] = value;
    } else if (nil && flags & NIL3) {
      this.#ring.codes[i] = READY;
      this.#ring.values[i] = NULL3;
    } else {
      this.#ring.codes[i] = nil ? Outcome.NotFound : code;
      this.#ring.values[i] = value;
    }
    // Only an answer at the head can unblock a flush, unless replies are held.
    if ((seq === this.#ring.head || this.#held) && !this.dirty) {
      this.dirty = true;
      this.#context.markDirty(this);
    }
  }

  /**
   * Whether this connection holds no view of a reply batch: every reply
   * slot written (a value waiting behind a miss keeps its view) and the
   * socket's queue empty (a large value is written as its own chunk).
   */
  released(): boolean {
    return this.#ring.head === this.#ring.tail && this.#socket.writableLength === 0;
  }

  /** Writes what the shards answered, then reads again if reading was paused. */
  flushAnswers(): void {
    this.dirty = false;
    this.#flush();
    if (this.#paused && this.#canRead()) this.#pump();
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#closing) return;
    this.#parser.feed(chunk);
    this.#drained = false;
    this.#pump();
  };

  readonly #onEnd = (): void => {
    this.#inputEnded = true;
    this.#flush();
  };

  readonly #onDrain = (): void => {
    if (this.#paused && this.#canRead()) this.#pump();
  };

  readonly #onClose = (): void => {
    this.#closed = true;
    this.#ring.values.fill(undefined);
    this.#context.forget(this);
  };

  /** Runs the commands received so far, writes what is ready, and pauses or resumes reading. */
  #pump(): void {
    const parser = this.#parser;
    do {
      while (!this.#closing && !this.#drained && this.#ring.waiting < HIGH_WATER) {
        const replay = this.#replay;
        if (replay !== undefined) {
          const args = replay[this.#replayAt++]!;
          if (this.#replayAt === replay.length) this.#replay = undefined;
          execute(this, args, args.length, this.#context.facts);
          continue;
        }
        const parsed = parser.next();
        if (parsed === Parse.NeedMore) this.#drained = true;
        else if (parsed === Parse.Error) {
          this.command = OTHER_COMMAND;
          this.replyAndClose(error(`ERR ${parser.error}`));
        } else execute(this, parser.args, parser.argc, this.#context.facts);
      }
      // Replies ready at once (an MGET's header, a PING) wait for the GET sent
      // after them: one write with both, not two. A client can do nothing with
      // an array header alone, and each write is a syscall on the main thread.
      if (this.#ring.codes[(this.#ring.tail - 1) & this.#ring.mask] === WAITING)
        this.#held = this.#ring.codes[this.#ring.head & this.#ring.mask] !== WAITING;
      else this.#flush();
      // Replies that were ready at once (PING, errors) may have made room for more.
    } while (!this.#closing && !this.#drained && this.#canRead());
    // Stop reading while commands wait unparsed or the client does not read its replies.
    const pause = !this.#closing && (!this.#drained || this.#socket.writableNeedDrain);
    if (pause === this.#paused || this.#closed) return;
    this.#paused = pause;
    if (pause) this.#socket.pause();
    else this.#socket.resume();
  }

  #canRead(): boolean {
    return this.#ring.waiting < (this.#paused ? LOW_WATER : HIGH_WATER) && !this.#socket.writableNeedDrain;
  }

  /** Writes the ready replies at the head (`SlotWriter`), and ends a half-closed connection once all are out. */
  #flush(): void {
    if (this.#closed) return;
    const out = this.#out;
    out.measure();
    this.#held = false;
    if (out.count > 0 && out.write(this.#socket)) this.#finish();
    if (this.#inputEnded && this.#drained && this.#ring.head === this.#ring.tail && !this.#closed) this.#finish();
  }

  /** Ends the connection once what was written has been sent. */
  #finish(): void {
    this.#closed = true;
    this.#socket.destroySoon();
  }
}
