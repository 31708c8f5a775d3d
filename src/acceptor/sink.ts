/** What the dispatcher answers into, apart from the dispatcher so that the batch bookkeeping (batch-return.ts) can name it too. */

/**
 * `flags` bit of an answer whose `value` is a whole encoded reply (a typed
 * command's RESP bytes, a typed value's JSON) rather than a string's bytes.
 */
export const ENCODED_ANSWER = 0x100;

/**
 * Whoever answers the client: the HTTP front end or a RESP connection.
 * `token` and `flags` are what was passed to `submit`; `value` is a
 * zero-copy view into the reply batch when `code` ≥ 0, `ageMs` its age and
 * `etag` its quoted ETag when it came from (or went into) the cache,
 * `lifeMs` its key's remaining life in Redis (-1: no TTL).
 */
export interface Sink {
  /**
   * The request `meta` this sink's requests carry to the shard: the `Protocol`
   * of the front end it serves (the shard counts hits and misses by it), with
   * `RESP3_FLAG` for a RESP connection that switched to RESP3.
   */
  readonly protocol: number;
  answer(
    token: unknown,
    flags: number,
    code: number,
    value: Buffer | undefined,
    ageMs: number,
    etag: string | undefined,
    lifeMs: number,
  ): void;
  /** Whether the answer given for `token` has let go of its value (written out, or copied): its batch can be reused. */
  released(token: unknown): boolean;
}
