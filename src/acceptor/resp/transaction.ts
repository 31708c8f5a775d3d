/**
 * MULTI … EXEC of reads. Between MULTI and EXEC each command is checked
 * (known, right arity, allowed) and kept, and answered `+QUEUED`; EXEC
 * hands them back to the connection, which runs them in order through the
 * same command table before anything it reads after EXEC, paced like a
 * pipeline. Their replies, hits and misses alike, fill consecutive slots of
 * the reply ring after EXEC's array header, so they leave in order as one
 * array.
 *
 * What it does not promise: the answers come from the cache (each coherent,
 * as any GET here) but are not one atomic snapshot of Redis; another
 * client's write may land between two of them. WATCH cannot be honoured by
 * a cache, so it is refused with the reason.
 *
 * A transaction holds at most what one command may (`RESP_LIMITS`): 65,536
 * arguments and 16 MiB. Past that the command is refused and EXEC aborts,
 * so a client cannot grow the proxy's memory by never sending EXEC.
 */
import { arrayHeader, error, OK, status } from './reply.js';
import type { Queued, Session } from './session.js';

/** Arguments (command names included) a transaction may queue: as many as one command may have. */
export const MAX_TRANSACTION_ARGS = 65536;
/** Argument bytes a transaction may queue: as many as one command may have. */
export const MAX_TRANSACTION_BYTES = 16 * 1024 * 1024;

const QUEUED = status('QUEUED');
// Redis's texts, word for word: clients match on them.
const EXECABORT = error('EXECABORT Transaction discarded because of previous errors.');
const NESTED = error('ERR MULTI calls can not be nested');
const EXEC_WITHOUT_MULTI = error('ERR EXEC without MULTI');
const DISCARD_WITHOUT_MULTI = error('ERR DISCARD without MULTI');
const WATCH_INSIDE_MULTI = error('ERR WATCH inside MULTI is not allowed');
const WATCH_REFUSED = error(
  'ERR WATCH is not supported: shardcache answers reads from its cache and cannot see a write to a watched key; send WATCH and its transaction to Redis itself',
);
const TOO_LARGE = error(
  `ERR transaction too large: at most ${MAX_TRANSACTION_ARGS} arguments and ${MAX_TRANSACTION_BYTES >>> 20} MiB between MULTI and EXEC; EXEC will abort`,
);

/** The commands of one open MULTI block. */
export class Transaction implements Queued {
  readonly commands: string[][] = [];
  failed = false;
  #args = 0;
  #bytes = 0;

  fail(): void {
    this.failed = true;
    this.commands.length = 0;
  }

  add(args: string[], argc: number): boolean {
    // Nothing is kept once EXEC is sure to abort.
    if (this.failed) return true;
    let bytes = 0;
    for (let i = 0; i < argc; i++) bytes += args[i]!.length;
    if (this.#args + argc > MAX_TRANSACTION_ARGS || this.#bytes + bytes > MAX_TRANSACTION_BYTES) {
      this.fail();
      return false;
    }
    this.#args += argc;
    this.#bytes += bytes;
    this.commands.push(args.slice(0, argc));
    return true;
  }
}

/** MULTI: opens a transaction. */
export function multi(session: Session): void {
  if (session.transaction !== undefined) return session.reply(NESTED);
  session.transaction = new Transaction();
  session.reply(OK);
}

/** A command sent inside MULTI: kept for EXEC, or refused past the bounds. */
export function queue(session: Session, args: string[], argc: number): void {
  session.reply(session.transaction!.add(args, argc) ? QUEUED : TOO_LARGE);
}

/** EXEC: the queued commands' replies as one array, in order (the connection replays them next). */
export function exec(session: Session): void {
  const transaction = session.transaction;
  if (transaction === undefined) return session.reply(EXEC_WITHOUT_MULTI);
  session.transaction = undefined;
  if (transaction.failed) return session.reply(EXECABORT);
  session.reply(arrayHeader(transaction.commands.length));
  session.replay(transaction.commands);
}

/**
 * EXEC refused before it runs (wrong arity, NOAUTH): the transaction is
 * discarded, and the reply gives the reason, as Redis's `execCommandAbort`.
 */
export function abortExec(session: Session, refusal: Buffer): void {
  session.transaction = undefined;
  const reason = refusal.latin1Slice(1, refusal.length - 2).replace(/^ERR /, '');
  session.reply(error(`EXECABORT Transaction discarded because of: ${reason}`));
}

/** DISCARD: drops the queued commands. */
export function discard(session: Session): void {
  if (session.transaction === undefined) return session.reply(DISCARD_WITHOUT_MULTI);
  session.transaction = undefined;
  session.reply(OK);
}

/** WATCH: refused, saying why; inside MULTI, Redis's own refusal (which leaves the transaction open). */
export function watch(session: Session): void {
  session.reply(session.transaction === undefined ? WATCH_REFUSED : WATCH_INSIDE_MULTI);
}
