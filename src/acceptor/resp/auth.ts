/**
 * RESP_PASSWORD, Redis's `requirepass` for the RESP listener: with it set, a
 * connection runs nothing but AUTH, HELLO and QUIT until it has sent the
 * password, with the replies a Redis server gives, so client libraries that
 * know Redis's AUTH handle it unchanged. The one user is Redis's `default`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
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
