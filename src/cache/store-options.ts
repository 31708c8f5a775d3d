/**
 * What a `Store` is built from, and the check of it: apart from store.ts to
 * keep that file to the store's operations.
 */
import type { Eviction } from './policy.js';

/** See the fields. */
export interface StoreOptions {
  /**
   * Entries held at most. The metadata arrays grow to it as entries arrive,
   * so a large capacity costs nothing until it is used.
   */
  capacity: number;
  /** Time-to-live of every entry from its fetch time, in the unit of `now` (ms). */
  ttl: number;
  /**
   * How long past `ttl` `get` still returns an entry (STALE_WHILE_REVALIDATE_MS:
   * the caller answers with it and refreshes it); default 0.
   */
  swr?: number;
  /** How long past `ttl + swr` an entry is kept for `stale` (STALE_IF_ERROR_MS); default 0. */
  grace?: number;
  /**
   * Bytes held at most, counting everything the store holds: each entry's
   * arena block (key, value, 4-byte header, rounding to 8), its metadata
   * (`ENTRY_BYTES`) and the index table, as Redis's `maxmemory` counts its
   * overhead. Least recently used entries go first. Default: no limit.
   */
  maxBytes?: number;
  /** Arena page size (`ArenaOptions.pageBytes`). */
  pageBytes?: number;
  /**
   * Which entry goes when room is needed (EVICTION): `lru` (the default),
   * the least recently read; `tinylfu`, W-TinyLFU's admission (`tinylfu.ts`),
   * which keeps frequently read keys through scans and one-off reads at the
   * price of a frequency sketch (2 bytes per capacity slot, counted in
   * `bytes`) and a duel of two sketch estimates per eviction.
   */
  eviction?: Eviction;
}

/** Throws a RangeError naming the first bad option. */
export function check(o: StoreOptions): StoreOptions {
  if (!Number.isInteger(o.capacity) || o.capacity < 0) throw new RangeError(`capacity must be a non-negative integer, got ${o.capacity}`);
  if (!(o.ttl >= 0)) throw new RangeError(`ttl must be a non-negative number, got ${o.ttl}`);
  if (!((o.swr ?? 0) >= 0)) throw new RangeError(`swr must be a non-negative number, got ${o.swr}`);
  if (!((o.grace ?? 0) >= 0)) throw new RangeError(`grace must be a non-negative number, got ${o.grace}`);
  if (!((o.maxBytes ?? 0) >= 0)) throw new RangeError(`maxBytes must be a non-negative number, got ${o.maxBytes}`);
  return o;
}
