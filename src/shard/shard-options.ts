/**
 * What a shard is built from (`Shard`'s constructor): its cache sizing, its
 * limits, and its ends, the fetches and the reply sender. Apart from
 * shard.ts to keep that file to its request handling. The settings among
 * them carry `Config`'s names (`SHARD_SETTINGS`), so a worker passes its
 * `attach` task through whole.
 */
import type { Eviction } from '../cache/policy.js';
import type { Fetch, FetchMany, FetchWithLife } from './batch-fetch.js';
import type { Forward } from './forward.js';

/** A shard's cache sizing, limits, and its ends: the fetch and the reply sender. */
export interface ShardOptions {
  /** Entries this shard's store holds. */
  capacity: number;
  /** Bytes this shard's store holds, everything counted (its share of CACHE_MAX_BYTES); default: no limit. */
  maxBytes?: number;
  /** How long a "key absent" answer is cached, in milliseconds; 0 (the default) never caches it. */
  negativeTtlMs?: number;
  /** The store's eviction policy (EVICTION); default `lru`. */
  eviction?: Eviction;
  /** How long past its TTL an entry is answered at once while one fetch refreshes it (STALE_WHILE_REVALIDATE_MS); default 0. */
  staleWhileRevalidateMs?: number;
  /** XFetch's β (EARLY_REFRESH_BETA): hits refresh an entry before it expires with a probability that rises as expiry nears; default 0 (off). */
  earlyRefreshBeta?: number;
  /** Time-to-live of a cached value, in milliseconds from insertion (CACHE_TTL_MS). */
  cacheTtlMs: number;
  /** Fetches a key alone: a batch's only miss, and each key a `fetchMany` found no string value for. */
  fetch: Fetch;
  /** Fetches a batch's misses together; absent: each with `fetch`. */
  fetchMany?: FetchMany;
  /** Reads values with their TTLs (`expiry-read.ts`); when present, every batch goes through it and the entries expire with their keys. */
  fetchWithLife?: FetchWithLife | undefined;
  /** Reads keys of any type whole with their type and TTL (`typed-read.ts`); absent: typed commands answer an error, and a key of another type WRONGTYPE. */
  fetchTyped?: FetchWithLife | undefined;
  /** Sends one typed command to Redis for a key too large to cache (`forward.ts`); absent: such a key is read whole for every command. */
  forward?: Forward | undefined;
  /** Keys per `fetchMany` at most; default `MAX_KEYS_PER_FETCH`. */
  maxKeysPerFetch?: number;
  /** Whether a read that failed as unavailable is sent once more (`BatchFetchOptions.resend`); absent: never. */
  resend?: (started: number) => Promise<boolean>;
  /** How long past its TTL an entry may be served while Redis fails (STALE_IF_ERROR_MS); default 0. */
  staleIfErrorMs?: number;
  /** Values longer than this are answered but not cached; default: no limit. */
  maxValueBytes?: number;
  /** MAX_INFLIGHT: requests that may wait on Redis at once (`MissLimit`); default: no limit. */
  maxInflight?: number;
  /** Where the counters are published (`newShardStats`); counters already in it are carried on. */
  stats?: Float64Array;
  /** Monotonic clock in milliseconds; injectable for tests. */
  now?: () => number;
}
