/**
 * Which keys a credential may read: key prefixes as binary strings (as the
 * proxy holds keys), the empty prefix meaning every key. KEY_PREFIX is
 * checked before, by the front end; a scope only narrows it further.
 */
export class Scope {
  /** Whether the empty prefix is among them: every key. */
  readonly all: boolean;
  /** The prefixes, each a binary string (one char per byte). */
  readonly prefixes: readonly string[];

  /** `prefixes` as binary strings; `[]` allows nothing (an admin-only credential). */
  constructor(prefixes: readonly string[]) {
    this.prefixes = prefixes;
    this.all = prefixes.includes('');
  }

  /**
   * Whether `key` (a binary string) starts with one of the prefixes. Every
   * prefix is tried, so the time does not tell which one matched, only how
   * long the prefixes are (which the credential's holder knows anyway).
   */
  allows(key: string): boolean {
    if (this.all) return true;
    const prefixes = this.prefixes;
    let ok = false;
    for (let i = 0; i < prefixes.length; i++) ok = key.startsWith(prefixes[i]!) || ok;
    return ok;
  }
}

/** Every key: no ACCESS_FILE, or RESP_PASSWORD's `default` user. */
export const ALL_KEYS = new Scope(['']);
