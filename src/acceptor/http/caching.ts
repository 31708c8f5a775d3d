/**
 * HTTP caching headers for answered values: `Age`, `Cache-Control:
 * max-age=<seconds left of the TTL>` and the `If-None-Match` test against a
 * value's ETag (RFC 9110 §13.1.2: weak comparison, a list, or `*`).
 */

/**
 * The header strings of every whole second a cached answer can be old, made
 * once at start-up so that answering converts no number to a string. Ages
 * beyond the table (a TTL of more than a day) are converted on the fly.
 */
export class AgeStrings {
  readonly #ttlMs: number;
  readonly #swrMs: number;
  readonly #ages: string[];
  readonly #maxAges: string[];
  readonly #revalidating: string[];
  readonly #lifeMaxAges: (string | undefined)[] = new Array(LIFE_STRINGS + 1);

  constructor(ttlMs: number, staleMs: number, swrMs = 0) {
    this.#ttlMs = ttlMs;
    this.#swrMs = swrMs;
    const seconds = Math.min(86400, Math.ceil((ttlMs + swrMs + staleMs) / 1000)) + 1;
    this.#ages = Array.from({ length: seconds }, (_, s) => String(s));
    this.#maxAges = Array.from({ length: seconds }, (_, s) => `max-age=${s}`);
    this.#revalidating = Array.from({ length: Math.min(86400, Math.ceil(swrMs / 1000)) + 1 }, (_, s) => revalidating(s));
  }

  /** `Age`: whole seconds since the value was fetched from Redis. */
  age(ageMs: number): string {
    const s = Math.floor(ageMs / 1000);
    return this.#ages[s] ?? String(s);
  }

  /**
   * `Cache-Control`: whole seconds left of the TTL, 0 once it has passed (a
   * stale answer). Within STALE_WHILE_REVALIDATE_MS past it, RFC 5861's
   * `max-age=0, stale-while-revalidate=<s>` with the seconds left of that
   * window (rounded up): a cache downstream may serve it that much longer
   * while it revalidates. A key with a TTL in Redis (`lifeMs` ≥ 0 left)
   * bounds both, rounded down: nothing downstream keeps it past its expiry.
   */
  maxAge(ageMs: number, lifeMs = -1): string {
    const left = this.#ttlMs - ageMs;
    if (left <= 0 && -left < this.#swrMs) {
      const window = lifeMs >= 0 && lifeMs < this.#swrMs + left ? Math.floor(lifeMs / 1000) : Math.ceil((this.#swrMs + left) / 1000);
      return window === 0 ? this.#maxAges[0]! : (this.#revalidating[window] ?? revalidating(window));
    }
    if (lifeMs >= 0 && lifeMs < left) return this.#lifeMaxAge(Math.floor(lifeMs / 1000));
    const s = left > 0 ? Math.floor(left / 1000) : 0;
    return this.#maxAges[s] ?? `max-age=${s}`;
  }

  /**
   * `max-age=<s>` for a key's remaining life: any number of seconds up to a
   * day, whatever CACHE_TTL_MS, so those strings are made on first use and
   * kept (a day's worth at most), not made per answer.
   */
  #lifeMaxAge(s: number): string {
    if (s < this.#maxAges.length) return this.#maxAges[s]!;
    if (s > LIFE_STRINGS) return `max-age=${s}`;
    this.#lifeMaxAges[s] ??= `max-age=${s}`;
    return this.#lifeMaxAges[s];
  }
}

/** Seconds of key life whose `max-age` strings are kept once made. */
const LIFE_STRINGS = 86400;

function revalidating(seconds: number): string {
  return `max-age=0, stale-while-revalidate=${seconds}`;
}

const IF_NONE_MATCH = 'if-none-match';

/** The `If-None-Match` field of a request (several fields joined by `,`), or undefined. */
export function ifNoneMatch(rawHeaders: string[]): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === IF_NONE_MATCH.length && name.toLowerCase() === IF_NONE_MATCH) {
      found = found === undefined ? rawHeaders[i + 1]! : `${found},${rawHeaders[i + 1]!}`;
    }
  }
  return found;
}

/** Whether an `If-None-Match` field matches `etag` (a quoted strong tag). */
export function matchesEtag(field: string | undefined, etag: string): boolean {
  if (field === undefined) return false;
  if (field === etag) return true;
  for (const part of field.split(',')) {
    const tag = part.trim();
    if (tag === '*' || tag === etag || (tag.startsWith('W/') && tag.slice(2) === etag)) return true;
  }
  return false;
}
