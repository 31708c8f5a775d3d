/**
 * How a shard's misses reach the backing store: the keys that start a flight
 * during one request batch are gathered and sent as one multi-key fetch
 * (Redis `MGET`) when the batch has been read, instead of one `GET` each. A
 * command costs an ioredis Command, a promise and a reply dispatch in Redis
 * whatever its size, so one per batch instead of one per key is most of what
 * a miss costs the shard and Redis besides the bytes.
 *
 * A batch with a single miss sends a plain `GET`, which answers everything
 * at once. An `MGET` answers nil for an absent key and for a key of another
 * type alike, where a `GET` tells them apart (404 against 409 WRONGTYPE), so
 * each nil is asked again with a `GET` and lands with that answer; absences
 * are rare on a hot path, and `NEGATIVE_TTL_MS` can cache them.
 *
 * A command that failed as unavailable (its connection dropped) may be sent
 * once more (`resend`): its keys' flights stay open meanwhile, so requests
 * for them keep joining it.
 */
import { Outcome } from '../hop/vocabulary.js';
import { NO_LIFE } from '../cache/entry-view.js';
import { observeLatency, Stat } from '../metrics/shard-stats.js';

/**
 * Fetches one key from the backing store. Resolves with the value, or with
 * an `Outcome` (absent, unavailable, …); never rejects. The value may be a
 * view into a larger buffer: the shard copies what it keeps.
 */
export type Fetch = (key: Buffer) => Promise<Buffer | Outcome>;

/**
 * Fetches several keys in one command. Resolves with one entry per key, in
 * order: the value, or `null` where the store has no string value (absent, or
 * another type: the caller learns which by a `Fetch` of that key); or with
 * one `Outcome` for every key when the command as a whole failed (an error
 * reply, a timeout, no connection). Never rejects. Values may be views, as
 * with `Fetch`.
 */
export type FetchMany = (keys: Buffer[]) => Promise<readonly (Buffer | null)[] | Outcome>;

/**
 * What a `FetchWithLife` resolves with: per key, in order, its value or
 * outcome (`NotFound`, `WrongType`), and its remaining life in Redis in ms
 * (`NO_LIFE`: no TTL), read in the same command.
 */
export interface Lived {
  values: (Buffer | Outcome)[];
  lives: number[];
}

/**
 * Fetches keys with their TTLs in one command (`expiry-read.ts`), or one
 * `Outcome` for all when the command failed. Never rejects.
 */
export type FetchWithLife = (keys: Buffer[]) => Promise<Lived | Outcome>;

/**
 * Keys per multi-key fetch at most: a larger batch is sent as several, so
 * that no single reply grows without bound (request batches hold 64 keys,
 * `FLUSH_AT`, so this only bounds other callers).
 */
export const MAX_KEYS_PER_FETCH = 512;

/** The ends of a `BatchFetch`. */
export interface BatchFetchOptions {
  fetch: Fetch;
  /** Absent: each key is fetched on its own with `fetch`. */
  fetchMany?: FetchMany;
  /**
   * Reads values and TTLs together: when present, every batch (a single key
   * too) goes through it, and `fetch`, `fetchMany` are not used.
   */
  fetchWithLife?: FetchWithLife | undefined;
  /** Called once per key with its result (the value, or its outcome) and its life in Redis (`NO_LIFE` when unknown or none). */
  land: (key: string, result: Buffer | Outcome, lifeMs: number) => void;
  /** Where each command's duration is observed (`observeLatency`). */
  stats: Float64Array;
  /** Monotonic clock in milliseconds. */
  now: () => number;
  /** Keys per `fetchMany` at most; default `MAX_KEYS_PER_FETCH`. */
  maxKeys?: number;
  /**
   * Asked once per command that failed as unavailable, with the time it was
   * first sent: resolving `true` sends its keys once more (`resend.ts`).
   * Absent: never sent again.
   */
  resend?: ((started: number) => Promise<boolean>) | undefined;
}

/**
 * Gathers the keys to fetch (`add`) and sends them (`send`): one promise and
 * one closure per command, none per key.
 */
export class BatchFetch {
  readonly #o: BatchFetchOptions;
  readonly #maxKeys: number;
  #keys: string[] = [];
  /** The keys' bytes, views into the request batch (which they keep alive until the reply). */
  #views: Buffer[] = [];

  constructor(options: BatchFetchOptions) {
    this.#o = options;
    this.#maxKeys = Math.max(1, options.maxKeys ?? MAX_KEYS_PER_FETCH);
  }

  /** Queues `key` (as a string for the caller, as bytes for the store); sends at once when the cap is reached. */
  add(key: string, view: Buffer): void {
    this.#keys.push(key);
    this.#views.push(view);
    if (this.#keys.length >= this.#maxKeys) this.send();
  }

  /** Sends what was queued: one `fetchMany`, or one `fetch` for a single key. */
  send(): void {
    const keys = this.#keys;
    const views = this.#views;
    if (keys.length === 0) return;
    const fetchWithLife = this.#o.fetchWithLife;
    if (fetchWithLife !== undefined) {
      this.#keys = [];
      this.#views = [];
      this.#sendLived(keys, views, this.#o.now(), false);
      return;
    }
    const fetchMany = this.#o.fetchMany;
    if (keys.length === 1 || fetchMany === undefined) {
      for (let i = 0; i < keys.length; i++) this.#fetchOne(keys[i]!, views[i]!);
      // Nothing kept them: the arrays are reused.
      keys.length = 0;
      views.length = 0;
      return;
    }
    // The reply's closure keeps these two arrays; the next batch gets new ones.
    this.#keys = [];
    this.#views = [];
    this.#sendMany(keys, views, this.#o.now(), false);
  }

  /**
   * Whether a command that failed with `outcome` is sent again: once, when
   * `resend` allows it; then `again` runs, else `fail`.
   */
  #resent(outcome: Outcome, started: number, again: boolean, keys: number, retry: () => void, fail: () => void): boolean {
    const o = this.#o;
    if (outcome !== Outcome.Unavailable || again || o.resend === undefined) return false;
    o.resend(started).then((ok) => {
      if (!ok) return fail();
      o.stats[Stat.ReadsResent]! += keys;
      retry();
    });
    return true;
  }

  /** A whole batch's read failed with `outcome`: sent once more (`retry`) when the resend gate allows, else every key lands failed. */
  #failBatch(keys: string[], outcome: Outcome, started: number, again: boolean, retry: () => void): void {
    if (!this.#resent(outcome, started, again, keys.length, retry, () => this.#landAll(keys, outcome))) this.#landAll(keys, outcome);
  }

  #sendLived(keys: string[], views: Buffer[], started: number, again: boolean): void {
    const sent = this.#o.now();
    this.#o.fetchWithLife!(views).then((results) => this.#landLived(keys, views, results, started, sent, again));
  }

  #sendMany(keys: string[], views: Buffer[], started: number, again: boolean): void {
    const sent = this.#o.now();
    this.#o.fetchMany!(views).then((results) => this.#landMany(keys, views, results, started, sent, again));
  }

  #fetchOne(key: string, view: Buffer, started = this.#o.now(), again = false): void {
    const sent = this.#o.now();
    this.#o.fetch(view).then((result) => {
      const o = this.#o;
      observeLatency(o.stats, (o.now() - sent) / 1000);
      if (
        result === Outcome.Unavailable &&
        this.#resent(
          result,
          started,
          again,
          1,
          () => this.#fetchOne(key, view, started, true),
          () => o.land(key, result, NO_LIFE),
        )
      )
        return;
      o.land(key, result, NO_LIFE);
    });
  }

  #landAll(keys: string[], outcome: Outcome): void {
    for (let i = 0; i < keys.length; i++) this.#o.land(keys[i]!, outcome, NO_LIFE);
  }

  #landMany(
    keys: string[],
    views: Buffer[],
    results: readonly (Buffer | null)[] | Outcome,
    started: number,
    sent: number,
    again: boolean,
  ): void {
    const o = this.#o;
    observeLatency(o.stats, (o.now() - sent) / 1000);
    if (typeof results === 'number')
      return this.#failBatch(keys, results, started, again, () => this.#sendMany(keys, views, started, true));
    for (let i = 0; i < keys.length; i++) {
      const value = results[i]!;
      // The flight stays open while the nil is confirmed: an invalidation in the meantime still poisons it.
      if (value === null) this.#fetchOne(keys[i]!, views[i]!);
      else o.land(keys[i]!, value, NO_LIFE);
    }
  }

  #landLived(keys: string[], views: Buffer[], results: Lived | Outcome, started: number, sent: number, again: boolean): void {
    const o = this.#o;
    const spent = o.now() - sent;
    observeLatency(o.stats, spent / 1000);
    if (typeof results === 'number')
      return this.#failBatch(keys, results, started, again, () => this.#sendLived(keys, views, started, true));
    // Lives count from landing: less the whole round trip, so never past Redis's expiry.
    for (let i = 0; i < keys.length; i++) {
      const life = results.lives[i]!;
      o.land(keys[i]!, results.values[i]!, life < 0 ? NO_LIFE : Math.max(0, life - spent));
    }
  }
}
