/**
 * The commands the RESP listener answers, in a table keyed by upper-case
 * name. GET and MGET go through the shards; everything else is answered
 * here, from the connection's own state. Nothing else ever reaches Redis:
 * a write command is as unknown here as a misspelt one.
 */
import { RESP_COMMANDS, type RespCommand } from '../../metrics/labels.js';
import { VERSION } from '../../version.js';
import { credentialsValid, HELLO_NOAUTH, NO_PASSWORD_SET, NOAUTH, WRONGPASS, type Password } from './auth.js';
import { arrayHeader, encode, error, NULL_BULK, OK, PONG, type Item } from './reply.js';

/** `flags` bit of a GET that is one element of an MGET (Redis's MGET answers nil for a non-string key). */
export const IN_ARRAY = 1;

/** The connection a command runs on, as the command table sees it. */
export interface Session {
  /** `CLIENT ID`: unique per process, counting from 1. */
  readonly id: number;
  /** `CLIENT SETNAME`'s name; `null` when unset. */
  name: string | null;
  /** Whether AUTH (or HELLO … AUTH) succeeded; only consulted when RESP_PASSWORD is set. */
  authenticated: boolean;
  /** Index in `RESP_COMMANDS` of the command being run, set before it runs: its replies are counted under it. */
  command: number;
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
}

/** What INFO, HELLO and the key checks need to know about the server. */
export interface ServerFacts {
  readonly maxKeyBytes: number;
  readonly shards: number;
  /** The port the RESP listener is bound to. */
  readonly port: number;
  readonly startedAt: number;
  readonly connections: number;
  /** RESP_PASSWORD; undefined when none is set (no AUTH needed). */
  readonly password: Password | undefined;
}

type Handler = (session: Session, args: string[], argc: number, facts: ServerFacts) => void;

/** The Redis version whose RESP2 behaviour this listener follows (error texts, HELLO, CONFIG GET). */
export const REDIS_COMPAT_VERSION = '7.0.0';

// arity as in Redis's COMMAND reply: n = exactly n arguments, -n = at least n. The order, and so each
// command's counter index, is RESP_COMMANDS's; the type asks for every command there, and no other.
const SPECS: Readonly<Record<RespCommand, readonly [arity: number, run: Handler]>> = {
  AUTH: [-2, auth],
  HELLO: [-1, hello],
  QUIT: [-1, (s) => s.replyAndClose(OK)],
  GET: [2, (s, args, _argc, facts) => keyFits(s, args[1]!, facts) && s.get(args[1]!, 0)],
  MGET: [-2, mget],
  PING: [-1, (s, args, argc) => (argc > 2 ? wrongArity(s, 'ping') : s.reply(argc === 2 ? encode(args[1]!) : PONG))],
  ECHO: [2, (s, args) => s.reply(encode(args[1]!))],
  SELECT: [2, select],
  CLIENT: [-2, client],
  COMMAND: [-1, command],
  CONFIG: [-2, config],
  INFO: [-1, info],
  EXISTS: [
    -2,
    (s, args, argc, facts) =>
      args.slice(1, argc).every((k) => keyFits(s, k, facts)) && (argc === 2 ? s.read(args, argc) : s.readSum(args, argc)),
  ],
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

/** The index of `other` in `RESP_COMMANDS`. */
export const OTHER_COMMAND = RESP_COMMANDS.indexOf('other');

const TABLE = new Map<string, { arity: number; run: Handler; index: number }>(
  (RESP_COMMANDS.slice(0, OTHER_COMMAND) as RespCommand[]).map((name, index) => [
    name,
    { arity: SPECS[name][0], run: SPECS[name][1], index },
  ]),
);

const GET = TABLE.get('GET')!;
/** Commands with an index below this (AUTH, HELLO, QUIT) run before authentication. */
const NO_AUTH_BELOW = TABLE.get('QUIT')!.index + 1;

/** Runs the command in `args[0, argc)` on `session`. */
export function execute(session: Session, args: string[], argc: number, facts: ServerFacts): void {
  const name = args[0]!;
  // The common case without an upper-case copy of the name.
  const entry = name === 'GET' || name === 'get' ? GET : TABLE.get(name.toUpperCase());
  session.command = entry === undefined ? OTHER_COMMAND : entry.index;
  if (entry === undefined) return unknown(session, name);
  if (entry.arity >= 0 ? argc !== entry.arity : argc < -entry.arity) return wrongArity(session, name.toLowerCase());
  // After the lookup and arity checks, as in Redis: an unknown command says so even before AUTH.
  if (facts.password !== undefined && !session.authenticated && entry.index >= NO_AUTH_BELOW) return session.reply(NOAUTH);
  entry.run(session, args, argc, facts);
}

function unknown(session: Session, name: string): void {
  session.reply(error(`ERR unknown or unsupported command '${name.slice(0, 128)}'`));
}

function wrongArity(session: Session, name: string): void {
  session.reply(error(`ERR wrong number of arguments for '${name.slice(0, 128)}' command`));
}

/** A key over MAX_KEY_BYTES gets an error reply (the connection stays usable). */
function keyFits(session: Session, key: string, facts: ServerFacts): boolean {
  if (key.length <= facts.maxKeyBytes) return true;
  session.reply(error(`ERR key longer than MAX_KEY_BYTES (${facts.maxKeyBytes} bytes)`));
  return false;
}

function mget(session: Session, args: string[], argc: number, facts: ServerFacts): void {
  for (let i = 1; i < argc; i++) if (!keyFits(session, args[i]!, facts)) return;
  // The header, then one GET reply per key, each in its own slot of the
  // connection's reply queue: answers from different shards land in place.
  session.reply(arrayHeader(argc - 1));
  for (let i = 1; i < argc; i++) session.get(args[i]!, IN_ARRAY);
}

/** AUTH <password>, or AUTH <user> <password> with the one user, `default`. */
function auth(session: Session, args: string[], argc: number, facts: ServerFacts): void {
  if (argc > 3) return session.reply(error('ERR syntax error'));
  if (argc === 2 && facts.password === undefined) return session.reply(NO_PASSWORD_SET);
  const ok = credentialsValid(facts.password, argc === 2 ? 'default' : args[1]!, args[argc - 1]!);
  // A failed AUTH leaves an earlier successful one in force, as in Redis.
  if (ok) session.authenticated = true;
  session.reply(ok ? OK : WRONGPASS);
}

function select(session: Session, args: string[]): void {
  const db = args[1]!;
  if (!/^-?\d+$/.test(db)) return session.reply(error('ERR value is not an integer or out of range'));
  // The proxy serves the one database REDIS_URL names; to a client it is database 0.
  session.reply(Number(db) === 0 ? OK : error('ERR DB index is out of range'));
}

function client(session: Session, args: string[], argc: number): void {
  const sub = args[1]!.toUpperCase();
  if (sub === 'ID' && argc === 2) return session.reply(encode(session.id));
  if (sub === 'GETNAME' && argc === 2) return session.reply(session.name === null ? NULL_BULK : encode(session.name));
  if (sub === 'SETNAME' && argc === 3) return setName(session, args[2]!);
  // Sent by client libraries (ioredis among them) to describe themselves; nothing to keep.
  if (sub === 'SETINFO' && argc === 4) return session.reply(OK);
  if (sub === 'ID' || sub === 'GETNAME' || sub === 'SETNAME' || sub === 'SETINFO')
    return wrongArity(session, `client|${sub.toLowerCase()}`);
  unknown(session, `CLIENT ${args[1]!}`);
}

const BAD_NAME = error('ERR Client names cannot contain spaces, newlines or special characters.');
/** Redis's rule: printable ASCII without spaces; the empty name clears it. */
const NAME = /^[!-~]*$/;

function setName(session: Session, name: string): void {
  if (!NAME.test(name)) return session.reply(BAD_NAME);
  session.name = name === '' ? null : name;
  session.reply(OK);
}

/**
 * HELLO answers as a Redis server without RESP3 would: any protocol version
 * but 2 is refused with NOPROTO, which is what makes a RESP3 client (ioredis
 * by default) fall back to RESP2.
 */
function hello(session: Session, args: string[], argc: number, facts: ServerFacts): void {
  if (argc >= 2) {
    if (!/^\d+$/.test(args[1]!)) return session.reply(error('ERR Protocol version is not an integer or out of range'));
    if (args[1] !== '2') return session.reply(error('NOPROTO unsupported protocol version'));
  }
  let name: string | undefined;
  let login: [user: string, password: string] | undefined;
  for (let i = 2; i < argc; i += 2) {
    const option = args[i]!.toUpperCase();
    if (option === 'SETNAME' && i + 1 < argc) {
      name = args[i + 1]!;
      if (!NAME.test(name)) return session.reply(BAD_NAME);
    } else if (option === 'AUTH' && i + 2 < argc) {
      login = [args[i + 1]!, args[i + 2]!];
      i++;
    } else {
      return session.reply(error(`ERR Syntax error in HELLO option '${args[i]!}'`));
    }
  }
  if (login !== undefined) {
    if (!credentialsValid(facts.password, login[0], login[1])) return session.reply(WRONGPASS);
    session.authenticated = true;
  } else if (facts.password !== undefined && !session.authenticated) {
    return session.reply(HELLO_NOAUTH);
  }
  if (name !== undefined) session.name = name === '' ? null : name;
  const reply: Item = [
    'server',
    'shardcache',
    'version',
    VERSION,
    'proto',
    2,
    'id',
    session.id,
    'mode',
    'standalone',
    'role',
    'master',
    'modules',
    [],
  ];
  session.reply(encode(reply));
}

/** COMMAND, COMMAND DOCS, COMMAND COUNT: an empty table (clients then use their built-in help). */
function command(session: Session, args: string[], argc: number): void {
  if (argc === 1) return session.reply(arrayHeader(0));
  const sub = args[1]!.toUpperCase();
  if (sub === 'DOCS' || sub === 'INFO') return session.reply(arrayHeader(0));
  if (sub === 'COUNT' && argc === 2) return session.reply(encode(0));
  unknown(session, `COMMAND ${args[1]!}`);
}

/** CONFIG GET: the parameters benchmark tools ask for, read-only. */
const CONFIG: [string, string][] = [
  ['save', ''],
  ['appendonly', 'no'],
  ['databases', '1'],
];

function config(session: Session, args: string[], argc: number): void {
  if (args[1]!.toUpperCase() !== 'GET') return unknown(session, `CONFIG ${args[1]!}`);
  if (argc < 3) return wrongArity(session, 'config|get');
  const patterns = args.slice(2, argc).map((p) => p.toLowerCase());
  const found = CONFIG.filter(([name]) => patterns.some((p) => globMatch(p, name)));
  session.reply(encode(found.flat()));
}

/**
 * `*` and `?` glob matching, as CONFIG GET takes. Greedy with one
 * backtrack point, so a pattern of many stars costs O(pattern × name), where
 * a regular expression built from it could backtrack for ever.
 */
export function globMatch(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === name[n])) {
      p++;
      n++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = n;
    } else if (star >= 0) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

function info(session: Session, args: string[], argc: number, facts: ServerFacts): void {
  const sections = args.slice(1, argc).map((s) => s.toLowerCase());
  const wanted = sections.length === 0 || sections.some((s) => s === 'server' || s === 'default' || s === 'all' || s === 'everything');
  if (!wanted) return session.reply(encode(''));
  const uptime = Math.floor((Date.now() - facts.startedAt) / 1000);
  const lines = [
    '# Server',
    `redis_version:${REDIS_COMPAT_VERSION}`,
    `shardcache_version:${VERSION}`,
    'redis_mode:standalone',
    `process_id:${process.pid}`,
    `tcp_port:${facts.port}`,
    `uptime_in_seconds:${uptime}`,
    `shards:${facts.shards}`,
    `connected_clients:${facts.connections}`,
    'loading:0',
  ];
  session.reply(encode(`${lines.join('\r\n')}\r\n`));
}
