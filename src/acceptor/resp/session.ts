/**
 * What a command handler sees: the connection it runs on (`Session`), the
 * server (`ServerFacts`), and the error replies every command shares. Apart
 * from the command table so that the handlers, in their own files, need not
 * import the table that names them.
 */
import { RESP3_FLAG } from '../../hop/vocabulary.js';
import type { Dispatcher } from '../dispatcher.js';
import type { AuthSession, Logins } from './auth.js';
import type { ParserLimits } from './parser.js';
import { error } from './reply.js';

/** `flags` bit of a GET that is one element of an MGET (Redis's MGET answers nil for a non-string key). */
export const IN_ARRAY = 1;
/** `flags` bit of a GET sent under RESP3: its nil is `_`, not `$-1` (kept per GET, since a HELLO may follow it). */
export const NIL3 = 2;

/** The commands of an open MULTI block (`Transaction` in transaction.ts). */
export interface Queued {
  /** Each queued command's arguments, name first. */
  readonly commands: string[][];
  /** A command was refused when queued: EXEC answers EXECABORT. */
  readonly failed: boolean;
  /** Marks the transaction failed and lets its commands go. */
  fail(): void;
  /** Keeps a copy of `args[0, argc)`; false (and failed) when that passes the transaction's bounds. */
  add(args: string[], argc: number): boolean;
}

/** The connection a command runs on, as the command table sees it. */
export interface Session extends AuthSession {
  /** `CLIENT ID`: unique per process, counting from 1. */
  readonly id: number;
  /** `CLIENT SETNAME`'s name; `null` when unset. */
  name: string | null;
  /** Index in `RESP_COMMANDS` of the command being run, set before it runs: its replies are counted under it. */
  command: number;
  /**
   * The request meta of this connection's GETs: `Protocol.Resp`, with
   * `RESP3_FLAG` once `HELLO 3` switched the connection to RESP3 (`resp3`
   * reads it). Each reply is encoded in the protocol in force when its
   * command ran, as Redis does.
   */
  protocol: number;
  /** The commands queued since MULTI; undefined outside a transaction. */
  transaction: Queued | undefined;
  /** Queues a reply that is ready now. */
  reply(bytes: Buffer): void;
  /** Queues the reply to a GET of `key` (a binary string); `flags` may hold `IN_ARRAY`. */
  get(key: string, flags: number): void;
  /** Queues the reply to the typed command `args[0, argc)` on the key `args[1]` (HGET, LRANGE, …), which its key's shard answers. */
  read(args: readonly string[], argc: number): void;
  /** Queues the sum of the integer replies of the typed command `args[0]` on each key of `args[1, argc)` (EXISTS k1 k2 …). */
  readSum(args: readonly string[], argc: number): void;
  /** Queues `bytes`, then closes the connection once everything before it is written. */
  replyAndClose(bytes: Buffer): void;
  /**
   * Runs `commands` next (EXEC), before anything read after them, paced as
   * pipelined commands are: a long transaction waits for reply slots
   * instead of handing every read to the shards at once.
   */
  replay(commands: string[][]): void;
}

/** What INFO, HELLO and the key checks need to know about the server. */
export interface ServerFacts {
  readonly maxKeyBytes: number;
  readonly shards: number;
  /** The port the RESP listener is bound to. */
  readonly port: number;
  readonly startedAt: number;
  readonly connections: number;
  /** RESP_PASSWORD's `default` user and ACCESS_FILE's credentials (auth.ts). */
  readonly logins: Logins;
}

/** Runs one command: `args[0, argc)` is the command line, `args[0]` its name. */
export type Handler = (session: Session, args: string[], argc: number, facts: ServerFacts) => void;

/** The Redis version whose behaviour this listener follows (error texts, HELLO, CONFIG GET, RESP3 types). */
export const REDIS_COMPAT_VERSION = '7.0.0';

/** Whether `session` speaks RESP3. */
export function resp3(session: Session): boolean {
  return (session.protocol & RESP3_FLAG) !== 0;
}

/** The reply to a command this listener does not run (a write, a typo). */
export function unknownCommand(name: string): Buffer {
  return error(`ERR unknown or unsupported command '${name.slice(0, 128)}'`);
}

/** Redis's reply to a command with the wrong number of arguments; `name` as Redis spells it (lower case). */
export function wrongArity(name: string): Buffer {
  return error(`ERR wrong number of arguments for '${name.slice(0, 128)}' command`);
}

/** What a connection needs from its server. */
export interface ConnectionContext {
  readonly dispatcher: Dispatcher;
  readonly limits: ParserLimits;
  readonly facts: ServerFacts;
  /** Commands answered: `counts[command * RESP_STATUSES.length + status]` (`RESP_COMMANDS` indices). */
  readonly counts: Float64Array;
  /** Asks for `connection.flushAnswers()` once the current reply batch is routed. */
  markDirty(connection: { flushAnswers(): void }): void;
  /** The connection closed. */
  forget(connection: object): void;
}
