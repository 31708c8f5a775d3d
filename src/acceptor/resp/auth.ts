/**
 * Logging in on the RESP listener, with the replies a Redis server gives, so
 * client libraries that know Redis's AUTH handle it unchanged. With
 * RESP_PASSWORD (Redis's `requirepass`) or ACCESS_FILE set, a connection
 * runs nothing but AUTH, HELLO and QUIT until it has logged in:
 *
 * - RESP_PASSWORD is the `default` user's password; `default` reads every key.
 * - ACCESS_FILE's credentials are users: `AUTH <name> <token>`, each reading
 *   its key prefixes (a key outside them: NOPERM, as Redis's ACLs answer).
 * - With both, both work; `AUTH <password>` alone is the `default` user, as in
 *   Redis. A credential named `default` in the file takes that name over.
 * - With ACCESS_FILE and no RESP_PASSWORD there is no `default` user:
 *   `AUTH <password>` alone is refused (WRONGPASS), as Redis refuses a
 *   disabled default user.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { current, type AccessList } from '../../access/access-list.js';
import type { Credential } from '../../access/credentials.js';
import { error } from './reply.js';

/** Redis's replies, word for word: clients match on them. */
export const NOAUTH = error('NOAUTH Authentication required.');
export const WRONGPASS = error('WRONGPASS invalid username-password pair or user is disabled.');
/** AUTH <password> without a password set; ioredis, for one, warns and goes on. */
export const NO_PASSWORD_SET = error(
  'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
);
export const HELLO_NOAUTH = error(
  'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
);

/** Redis 7.0's ACL reply to a key outside the user's patterns (the whole command is refused). */
export const NOPERM = error('NOPERM this user has no permissions to access one of the keys used as arguments');

const digest = (bytes: Buffer): Buffer => createHash('sha256').update(bytes).digest();

/**
 * The configured password. Candidates are compared by their SHA-256 in
 * constant time, so neither the bytes nor the length of the password show in
 * how long a wrong guess takes to be refused.
 */
export class Password {
  readonly #digest: Buffer;

  /** `password` as configured (UTF-8). */
  constructor(password: string) {
    this.#digest = digest(Buffer.from(password, 'utf8'));
  }

  /** Whether `candidate`, a binary string as the RESP parser gives arguments, is the password's bytes. */
  matches(candidate: string): boolean {
    return timingSafeEqual(this.#digest, digest(Buffer.from(candidate, 'latin1')));
  }
}

/**
 * Whether `user` / `password` log in. Without a configured password the
 * `default` user needs none, as in Redis (`nopass`); other users do not exist.
 */
export function credentialsValid(configured: Password | undefined, user: string, password: string): boolean {
  if (user !== 'default') return false;
  return configured === undefined || configured.matches(password);
}

/** What a connection's login state is, as the commands see it. */
export interface AuthSession {
  /** Whether AUTH (or HELLO … AUTH) succeeded; only consulted when `Logins.required`. */
  authenticated: boolean;
  /** The ACCESS_FILE credential logged in as; undefined: the `default` user (every key). */
  credential: Credential | undefined;
}

/** Who may log in: RESP_PASSWORD's `default` user and ACCESS_FILE's credentials. */
export class Logins {
  readonly #password: Password | undefined;
  readonly #access: AccessList | undefined;
  /** Whether a connection must log in before running commands. */
  readonly required: boolean;

  constructor(password: string | undefined, access: AccessList | undefined) {
    this.#password = password ? new Password(password) : undefined;
    this.#access = access;
    this.required = this.#password !== undefined || access !== undefined;
  }

  /**
   * Logs `session` in as `user` with `password` when they match (a failed
   * attempt leaves an earlier login in force, as in Redis); returns whether they did.
   */
  logIn(session: AuthSession, user: string, password: string): boolean {
    const credential = this.#access?.login(user, password);
    if (credential !== undefined) {
      session.authenticated = true;
      session.credential = credential;
      return true;
    }
    if (this.#access !== undefined && this.#password === undefined) return false;
    if (!credentialsValid(this.#password, user, password)) return false;
    session.authenticated = true;
    session.credential = undefined;
    return true;
  }
}

/**
 * Whether the session may read `args[from, to)`: the `default` user reads
 * every key; a credential, its prefixes, all of them or the command is
 * refused whole (NOPERM), as Redis refuses an MGET with one key outside the
 * user's patterns. A credential revoked by a reload logs the session out
 * (NOAUTH). Replies the refusal itself.
 */
export function keysAllowed(session: AuthSession & { reply(bytes: Buffer): void }, args: string[], from: number, to: number): boolean {
  if (session.credential === undefined) return true;
  const credential = current(session.credential);
  if (credential === undefined) {
    session.authenticated = false;
    session.credential = undefined;
    session.reply(NOAUTH);
    return false;
  }
  session.credential = credential;
  const scope = credential.scope;
  if (scope.all) return true;
  let ok = true;
  for (let i = from; i < to; i++) ok = scope.allows(args[i]!) && ok;
  if (!ok) session.reply(NOPERM);
  return ok;
}
