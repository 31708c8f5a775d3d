/**
 * The credentials in force in one acceptor, and the one way a presented
 * token is checked: its SHA-256, compared with every credential's digest by
 * `crypto.timingSafeEqual`. Every digest is compared whatever matches, so
 * the time taken says nothing about which credential (or whether any) did;
 * the token itself is never compared, kept or logged.
 */
import { hash, timingSafeEqual } from 'node:crypto';
import type { Credential } from './credentials.js';

export class AccessList {
  #credentials: readonly Credential[];
  /** Counts the reloads: what a connection remembers of an earlier check is void once it changes. */
  generation = 0;

  constructor(credentials: readonly Credential[]) {
    this.#credentials = credentials;
  }

  /** The credentials in force. */
  get credentials(): readonly Credential[] {
    return this.#credentials;
  }

  /** The credential whose token is `token` (a binary string: its bytes are hashed), or undefined. */
  byToken(token: string): Credential | undefined {
    const digest = hash('sha256', Buffer.from(token, 'latin1'), 'buffer');
    const list = this.#credentials;
    let found: Credential | undefined;
    for (let i = 0; i < list.length; i++) {
      const c = list[i]!;
      if (timingSafeEqual(c.digest, digest) && found === undefined) found = c;
    }
    return found;
  }

  /** The credential named `name` whose token is `token`, or undefined (the same token check; the name after). */
  login(name: string, token: string): Credential | undefined {
    const c = this.byToken(token);
    return c !== undefined && c.name === name ? c : undefined;
  }

  /**
   * Puts `next` in force (SIGHUP). Each credential replaced learns its
   * successor: the new one of the same name and token, or null (revoked,
   * or its token changed), so that a RESP session logged in as it follows.
   */
  replace(next: readonly Credential[]): void {
    const byName = new Map(next.map((c) => [c.name, c]));
    for (const old of this.#credentials) {
      const n = byName.get(old.name);
      old.successor = n?.digest.equals(old.digest) ? n : null;
    }
    this.#credentials = next;
    this.generation++;
  }
}

/** `c` as the latest reload left it: the credential it became, or undefined when it was revoked. */
export function current(c: Credential): Credential | undefined {
  let now: Credential | null | undefined = c;
  while (now?.successor !== undefined) now = now.successor;
  return now ?? undefined;
}
