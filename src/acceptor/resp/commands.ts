/**
 * The commands the RESP listener answers, in a table keyed by upper-case
 * name. GET and MGET go through the shards; everything else is answered
 * here, from the connection's own state. Nothing else ever reaches Redis:
 * a write command is as unknown here as a misspelt one.
 */
import { RESP_COMMANDS, type RespCommand } from '../../metrics/labels.js';
import { keysAllowed, NOAUTH } from './auth.js';
import { auth, client, hello, select } from './hello.js';
import { command, config, info } from './introspection.js';
import { arrayHeader, encode, error, OK, PONG } from './reply.js';
import { type Handler, IN_ARRAY, type ServerFacts, type Session, unknownCommand, wrongArity } from './session.js';
import { abortExec, discard, exec, multi, queue, watch } from './transaction.js';

// arity as in Redis's COMMAND reply: n = exactly n arguments, -n = at least n. The order, and so each
// command's counter index, is RESP_COMMANDS's; the type asks for every command there, and no other.
const SPECS: Readonly<Record<RespCommand, readonly [arity: number, run: Handler]>> = {
  AUTH: [-2, auth],
  HELLO: [-1, hello],
  QUIT: [-1, (s) => s.replyAndClose(OK)],
  GET: [2, (s, args, _argc, facts) => keysAllowed(s, args, 1, 2) && keyFits(s, args[1]!, facts) && s.get(args[1]!, 0)],
  MGET: [-2, mget],
  PING: [-1, (s, args, argc) => s.reply(argc > 2 ? wrongArity('ping') : argc === 2 ? encode(args[1]!) : PONG)],
  ECHO: [2, (s, args) => s.reply(encode(args[1]!))],
  SELECT: [2, select],
  CLIENT: [-2, client],
  COMMAND: [-1, command],
  CONFIG: [-2, config],
  INFO: [-1, info],
  MULTI: [1, multi],
  EXEC: [1, exec],
  DISCARD: [1, discard],
  WATCH: [-2, watch],
  // Nothing is ever watched, so there is nothing to forget.
  UNWATCH: [1, (s) => s.reply(OK)],
  EXISTS: [-2, (s, args, argc, facts) => everyKeyFits(s, args, argc, facts) && (argc === 2 ? s.read(args, argc) : s.readSum(args, argc))],
  TYPE: [2, typed],
  TTL: [2, typed],
  PTTL: [2, typed],
  STRLEN: [2, typed],
  GETRANGE: [4, typed],
  HGET: [3, typed],
  HMGET: [-3, typed],
  HGETALL: [2, typed],
  HKEYS: [2, typed],
  HVALS: [2, typed],
  HLEN: [2, typed],
  HEXISTS: [3, typed],
  HSTRLEN: [3, typed],
  LRANGE: [4, typed],
  LINDEX: [3, typed],
  LLEN: [2, typed],
  SMEMBERS: [2, typed],
  SISMEMBER: [3, typed],
  SMISMEMBER: [-3, typed],
  SCARD: [2, typed],
  ZRANGE: [-4, typed],
  ZRANGEBYSCORE: [-4, typed],
  ZSCORE: [3, typed],
  ZMSCORE: [-3, typed],
  ZCARD: [2, typed],
  ZRANK: [3, typed],
  ZREVRANK: [3, typed],
};

/** A typed command (`src/shard/commands/`): answered by its key's shard from the key's cached entry. */
function typed(session: Session, args: string[], argc: number, facts: ServerFacts): void {
  if (keyFits(session, args[1]!, facts)) session.read(args, argc);
}

/** Run at once inside MULTI, as in Redis; every other command is queued for EXEC. */
const IMMEDIATE: ReadonlySet<string> = new Set(['MULTI', 'EXEC', 'DISCARD', 'WATCH', 'QUIT']);

/** The index of `other` in `RESP_COMMANDS`. */
export const OTHER_COMMAND = RESP_COMMANDS.indexOf('other');

const TABLE = new Map<string, { arity: number; run: Handler; index: number; queued: boolean }>(
  (RESP_COMMANDS.slice(0, OTHER_COMMAND) as RespCommand[]).map((name, index) => [
    name,
    { arity: SPECS[name][0], run: SPECS[name][1], index, queued: !IMMEDIATE.has(name) },
  ]),
);

const GET = TABLE.get('GET')!;
/** Commands with an index below this (AUTH, HELLO, QUIT) run before authentication. */
const NO_AUTH_BELOW = TABLE.get('QUIT')!.index + 1;
/** Inside MULTI, the `+QUEUED` replies are counted as MULTI's: each command is counted when EXEC runs it. */
const MULTI_INDEX = TABLE.get('MULTI')!.index;
const EXEC_INDEX = TABLE.get('EXEC')!.index;

/** Runs the command in `args[0, argc)` on `session` (inside MULTI: queues it). */
export function execute(session: Session, args: string[], argc: number, facts: ServerFacts): void {
  const name = args[0]!;
  // The common case without an upper-case copy of the name.
  const entry = name === 'GET' || name === 'get' ? GET : TABLE.get(name.toUpperCase());
  session.command = entry === undefined ? OTHER_COMMAND : entry.index;
  if (entry === undefined) return refuse(session, unknownCommand(name));
  if (entry.arity >= 0 ? argc !== entry.arity : argc < -entry.arity) return refuse(session, wrongArity(name.toLowerCase()));
  // After the lookup and arity checks, as in Redis: an unknown command says so even before AUTH.
  if (facts.logins.required && !session.authenticated && entry.index >= NO_AUTH_BELOW) return refuse(session, NOAUTH);
  if (session.transaction !== undefined && entry.queued) {
    session.command = MULTI_INDEX;
    return queue(session, args, argc);
  }
  entry.run(session, args, argc, facts);
}

/**
 * An error reply; inside MULTI it also dooms the transaction, as Redis does
 * with a command it refuses when queued. A refused EXEC discards it at once.
 */
function refuse(session: Session, reply: Buffer): void {
  if (session.command === EXEC_INDEX) return abortExec(session, reply);
  session.transaction?.fail();
  session.reply(reply);
}

/** A key over MAX_KEY_BYTES gets an error reply (the connection stays usable). */
function keyFits(session: Session, key: string, facts: ServerFacts): boolean {
  if (key.length <= facts.maxKeyBytes) return true;
  session.reply(error(`ERR key longer than MAX_KEY_BYTES (${facts.maxKeyBytes} bytes)`));
  return false;
}

/** Whether every key of `args[1, argc)` fits (else the first that does not got its error reply). */
function everyKeyFits(session: Session, args: string[], argc: number, facts: ServerFacts): boolean {
  for (let i = 1; i < argc; i++) if (!keyFits(session, args[i]!, facts)) return false;
  return true;
}

function mget(session: Session, args: string[], argc: number, facts: ServerFacts): void {
  if (!keysAllowed(session, args, 1, argc)) return;
  if (!everyKeyFits(session, args, argc, facts)) return;
  // The header, then one GET reply per key, each in its own slot of the
  // connection's reply queue: answers from different shards land in place.
  session.reply(arrayHeader(argc - 1));
  for (let i = 1; i < argc; i++) session.get(args[i]!, IN_ARRAY);
}
