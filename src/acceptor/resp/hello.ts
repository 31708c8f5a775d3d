/**
 * The commands about the connection itself: HELLO (which picks RESP2 or
 * RESP3), AUTH, CLIENT and SELECT, with Redis 7.0's replies.
 */
import { Protocol, RESP3_FLAG } from '../../hop/vocabulary.js';
import { VERSION } from '../../version.js';
import { credentialsValid, HELLO_NOAUTH, NO_PASSWORD_SET, WRONGPASS } from './auth.js';
import { encode, error, type Item, NULL3, NULL_BULK, OK } from './reply.js';
import { resp3, type ServerFacts, type Session, unknownCommand, wrongArity } from './session.js';

const BAD_VERSION = error('ERR Protocol version is not an integer or out of range');
const NOPROTO = error('NOPROTO unsupported protocol version');
const BAD_NAME = error('ERR Client names cannot contain spaces, newlines or special characters.');
/** Redis's rule: printable ASCII without spaces; the empty name clears it. */
const NAME = /^[!-~]*$/;
/** Redis's `string2ll`: no sign but `-`, no leading zero, no spaces. */
const INTEGER = /^(0|-?[1-9]\d{0,18})$/;
const INT64_MAX = 2n ** 63n - 1n;

/** HELLO's version argument as Redis reads it: NaN unless a 64-bit integer written as Redis writes one. */
function parseVersion(text: string): number {
  if (!INTEGER.test(text)) return Number.NaN;
  const n = BigInt(text);
  return n > INT64_MAX || n < -INT64_MAX - 1n ? Number.NaN : Number(n);
}

/**
 * HELLO [protover [AUTH user pass] [SETNAME name]]: as Redis 7.0 runs it,
 * options in order, each taking effect at once: an AUTH logs in and a
 * SETNAME names the connection, even when a later option is refused (what
 * redis-server 7.0.15 does). Then the protocol switches and the server map
 * is answered in it (a map in RESP3, a flat array in RESP2). Versions other
 * than 2 and 3 are refused with NOPROTO and leave the connection as it was.
 */
export function hello(session: Session, args: string[], argc: number, facts: ServerFacts): void {
  let version = 0;
  if (argc >= 2) {
    version = parseVersion(args[1]!);
    if (Number.isNaN(version)) return session.reply(BAD_VERSION);
    if (version !== 2 && version !== 3) return session.reply(NOPROTO);
  }
  for (let i = 2; i < argc; i++) {
    const option = args[i]!.toUpperCase();
    if (option === 'AUTH' && i + 2 < argc) {
      if (!credentialsValid(facts.password, args[i + 1]!, args[i + 2]!)) return session.reply(WRONGPASS);
      session.authenticated = true;
      i += 2;
    } else if (option === 'SETNAME' && i + 1 < argc) {
      const name = args[++i]!;
      if (!NAME.test(name)) return session.reply(BAD_NAME);
      session.name = name === '' ? null : name;
    } else {
      return session.reply(error(`ERR Syntax error in HELLO option '${args[i]!}'`));
    }
  }
  if (facts.password !== undefined && !session.authenticated) return session.reply(HELLO_NOAUTH);
  if (version !== 0) session.protocol = version === 3 ? Protocol.Resp | RESP3_FLAG : Protocol.Resp;
  const on3 = resp3(session);
  const map: Item[] = ['server', 'shardcache', 'version', VERSION, 'proto', on3 ? 3 : 2, 'id', session.id];
  map.push('mode', 'standalone', 'role', 'master', 'modules', []);
  session.reply(encode({ map }, on3));
}

/** AUTH <password>, or AUTH <user> <password> with the one user, `default`. */
export function auth(session: Session, args: string[], argc: number, facts: ServerFacts): void {
  if (argc > 3) return session.reply(error('ERR syntax error'));
  if (argc === 2 && facts.password === undefined) return session.reply(NO_PASSWORD_SET);
  const ok = credentialsValid(facts.password, argc === 2 ? 'default' : args[1]!, args[argc - 1]!);
  // A failed AUTH leaves an earlier successful one in force, as in Redis.
  if (ok) session.authenticated = true;
  session.reply(ok ? OK : WRONGPASS);
}

/** SELECT: the proxy serves the one database REDIS_URL names; to a client it is database 0. */
export function select(session: Session, args: string[]): void {
  const db = args[1]!;
  if (!/^-?\d+$/.test(db)) return session.reply(error('ERR value is not an integer or out of range'));
  session.reply(Number(db) === 0 ? OK : error('ERR DB index is out of range'));
}

/** CLIENT ID, GETNAME, SETNAME and SETINFO. */
export function client(session: Session, args: string[], argc: number): void {
  const sub = args[1]!.toUpperCase();
  if (sub === 'ID' && argc === 2) return session.reply(encode(session.id));
  if (sub === 'GETNAME' && argc === 2) {
    if (session.name === null) return session.reply(resp3(session) ? NULL3 : NULL_BULK);
    return session.reply(encode(session.name));
  }
  if (sub === 'SETNAME' && argc === 3) return setName(session, args[2]!);
  // Sent by client libraries (ioredis among them) to describe themselves; nothing to keep.
  if (sub === 'SETINFO' && argc === 4) return session.reply(OK);
  if (sub === 'ID' || sub === 'GETNAME' || sub === 'SETNAME' || sub === 'SETINFO')
    return session.reply(wrongArity(`client|${sub.toLowerCase()}`));
  session.reply(unknownCommand(`CLIENT ${args[1]!}`));
}

function setName(session: Session, name: string): void {
  if (!NAME.test(name)) return session.reply(BAD_NAME);
  session.name = name === '' ? null : name;
  session.reply(OK);
}
