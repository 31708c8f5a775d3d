/**
 * One shard's request handling, independent of threads: it takes a packed
 * request batch, answers the hits in one reply batch at once, coalesces the
 * misses into one flight per key, fetches the batch's new flights together
 * (`BatchFetch`: one MGET), and sends their answers in later reply batches
 * as the fetches complete.
 *
 * Batches come in over *links*, one per acceptor thread; a reply goes back
 * over the link its request came by. Coalescing does not care: twenty
 * clients on four acceptors missing one key wait on one flight, whose
 * waiters remember their link. The worker entry wires links to
 * MessagePorts and the fetches to ioredis; tests drive it in-process.
 */
import { etagOut, etagWords } from '../cache/etag.js';
import type { Eviction } from '../cache/policy.js';
import { Flights } from '../cache/singleflight.js';
import { ABSENT, MISS, Store } from '../cache/store.js';
import { BatchReader, BatchWriter, Outcome, PROTOCOLS } from '../hop/wire.js';
import { newShardStats, Stat } from '../metrics/shard-stats.js';
import { BatchFetch, type Fetch, type FetchMany } from './batch-fetch.js';

export type { Fetch, FetchMany } from './batch-fetch.js';

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
  swrMs?: number;
  /** XFetch's β (EARLY_REFRESH_BETA): hits refresh an entry before it expires with a probability that rises as expiry nears; default 0 (off). */
  earlyRefreshBeta?: number;
  /** Time-to-live of a cached value, in milliseconds from insertion. */
  ttlMs: number;
  /** Fetches a key alone: a batch's only miss, and each key a `fetchMany` found no string value for. */
  fetch: Fetch;
  /** Fetches a batch's misses together; absent: each with `fetch`. */
  fetchMany?: FetchMany;
  /** Keys per `fetchMany` at most; default `MAX_KEYS_PER_FETCH`. */
  maxKeysPerFetch?: number;
  /** How long past its TTL an entry may be served while Redis fails (STALE_IF_ERROR_MS); default 0. */
  staleMs?: number;
  /** Values longer than this are answered but not cached; default: no limit. */
  maxValueBytes?: number;
  /** Where the counters are published (`newShardStats`); counters already in it are carried on. */
  stats?: Float64Array;
  /** Monotonic clock in milliseconds; injectable for tests. */
  now?: () => number;
}

/**
 * A flight's waiter is one number: its request id on its link, plus the link
 * times this. Ids are int32 (`wire.ts`), and links below 2^22 keep the sum an
 * exact integer in a double, so a waiter costs no object.
 */
const LINK_SPAN = 0x80000000;

/** The waiter of a background refresh: nobody to answer (its link, -1, is never open). */
const REFRESH = -1;

/**
 * XFetch refreshes when `-delta · β · ln(U) ≥ time left` (U uniform in
 * (0, 1]); beyond this many `delta · β` before expiry the chance is below
 * e^-10, so a hit farther from expiry skips the draw: one comparison.
 */
const EARLY_HORIZON = 10;

/**
 * A reply batch leaves as soon as it holds this many bytes, without waiting
 * for the rest of the request batch: with large values, the acceptor then
 * writes the first answers to their sockets while this thread copies the
 * next ones, instead of the two threads taking turns on one batch of many
 * megabytes. (256 KiB values, by hand: 3.8k req/s with one reply batch
 * per request batch, 5.5–6.2k flushing at 1 MiB, 5.0–5.9k at 256 KiB.)
 */
export const REPLY_FLUSH_BYTES = 1 << 20;

/** Where a link's replies go: its sender and the reply batch being filled for it. */
interface Link {
  send: (batch: ArrayBuffer) => void;
  replies: BatchWriter;
  /** Queued in `#dirty`, to be flushed at the end of the turn. */
  dirty: boolean;
}

/** One shard: batches in, reply batches out; the cache, coalescing and stats of one worker. */
export class Shard {
  readonly cache: Store;
  /** Waiters are `link * LINK_SPAN + id`. */
  readonly flights = new Flights<number>();
  /** This shard's figures, published after every batch and every landing turn. */
  readonly stats: Float64Array;
  /** Per `Protocol`: requests answered from the cache. */
  readonly hits = new Float64Array(PROTOCOLS.length);
  /** Per `Protocol`: requests not answered from the cache (each key of an MGET counts). */
  readonly misses = new Float64Array(PROTOCOLS.length);
  /** Per `Protocol`: misses that joined a fetch already in flight. */
  readonly coalesced = new Float64Array(PROTOCOLS.length);
  staleServed = 0;
  tooLarge = 0;
  /** Background refreshes started (stale-while-revalidate, early refresh), failed, and answers served stale by SWR. */
  refreshesStarted = 0;
  refreshesFailed = 0;
  servedStale = 0;
  /**
   * Whether answers that land may be cached. Invalidation turns it off while
   * tracking is not armed, since nothing would report a later change.
   */
  caching = true;

  readonly #fetches: BatchFetch;
  /** By link number; a closed link's slot is `undefined` (its late answers are dropped). */
  readonly #links: (Link | undefined)[] = [];
  /** Links holding answers that landed this turn. */
  #dirty: Link[] = [];
  readonly #now: () => number;
  readonly #staleMs: number;
  readonly #ttlMs: number;
  readonly #beta: number;
  /** The age from which a hit looks at refreshing its entry: the TTL, or the early-refresh horizon before it. */
  #refreshAt = Number.POSITIVE_INFINITY;
  /** XFetch's delta in ms (`#earlyHorizon`). */
  #deltaMs = 1;
  readonly #negativeTtlMs: number;
  readonly #maxValueBytes: number;
  /** Whether a fetched value can ever be served from the cache (else it is neither copied nor tagged). */
  readonly #caches: boolean;
  /** The counters as they were when this shard started (a replaced worker's), added to its own. */
  readonly #base: Float64Array;
  readonly #reader = new BatchReader();
  #flushScheduled = false;

  constructor(options: ShardOptions) {
    this.#staleMs = options.staleMs ?? 0;
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    const swrMs = options.swrMs ?? 0;
    this.cache = new Store({ capacity: options.capacity, ttl: options.ttlMs, swr: swrMs, grace: this.#staleMs, maxBytes, eviction: options.eviction ?? 'lru' });
    this.#ttlMs = options.ttlMs;
    this.#beta = options.earlyRefreshBeta ?? 0;
    if (swrMs > 0) this.#refreshAt = options.ttlMs;
    this.#now = options.now ?? performance.now.bind(performance);
    // A value the byte budget cannot hold is answered uncached, and counted as too large, like one over MAX_VALUE_BYTES.
    this.#maxValueBytes = Math.min(options.maxValueBytes ?? Number.POSITIVE_INFINITY, maxBytes);
    this.#caches = options.capacity > 0 && options.ttlMs + swrMs + this.#staleMs > 0;
    this.stats = options.stats ?? newShardStats();
    this.#base = Float64Array.from(this.stats);
    this.#negativeTtlMs = options.negativeTtlMs ?? 0;
    this.#fetches = new BatchFetch({
      fetch: options.fetch,
      fetchMany: options.fetchMany,
      maxKeys: options.maxKeysPerFetch,
      land: (key, result) => this.#land(key, result),
      stats: this.stats,
      now: this.#now,
    });
    this.#publish();
  }

  /**
   * Opens a link: reply batches for the requests received over it are given
   * to `send`, which takes ownership (the worker transfers them to the
   * acceptor). Returns the link number to `receive` its batches with.
   */
  link(send: (batch: ArrayBuffer) => void): number {
    this.#links.push({ send, replies: new BatchWriter(), dirty: false });
    return this.#links.length - 1;
  }

  /** Closes link `n` (its acceptor is gone): answers still in flight for it are dropped when they land. */
  unlink(n: number): void {
    this.#links[n]?.replies.clear();
    this.#links[n] = undefined;
  }

  /** Forgets `key`: it changed in Redis. A fetch of it in the air is answered but not cached. */
  invalidate(key: string): void {
    this.cache.delete(key);
    this.flights.poison(key);
  }

  /** Forgets every key (FLUSHALL, or a lost connection that may have hidden changes). */
  clear(): void {
    this.cache.clear();
    this.flights.poisonAll();
  }

  /**
   * Handles one request batch. Hits are answered before this returns; each
   * miss is answered when its fetch completes, so a batch's hits never wait
   * for its misses. The keys that start a flight are fetched together once
   * the whole batch has been read. Answers go back over `link`.
   */
  receive(batch: ArrayBuffer, link: number): void {
    const out = this.#links[link];
    if (out === undefined) return;
    const replies = out.replies;
    const base = link * LINK_SPAN;
    const reader = this.#reader;
    const now = this.#now();
    if (this.#beta > 0) this.#earlyHorizon();
    reader.reset(batch);
    while (reader.next()) {
      const bytes = reader.buffer;
      // Looked up from the request's bytes: a hit makes no string.
      const entry = this.cache.get(bytes, reader.offset, reader.code, now);
      const protocol = reader.protocol;
      if (entry !== MISS) {
        this.hits[protocol]!++;
        const age = this.cache.age(entry, now);
        if (age >= this.#refreshAt) this.#refresh(bytes, reader.offset, reader.code, age);
        this.#answerEntry(replies, reader.id, entry, age);
        if (replies.bytes >= REPLY_FLUSH_BYTES) out.send(replies.finish());
      } else {
        this.misses[protocol]!++;
        const key = bytes.latin1Slice(reader.offset, reader.offset + reader.code);
        // The view keeps the request batch alive until the reply lands;
        // nothing else writes to that buffer.
        if (this.flights.join(key, base + reader.id)) this.#fetches.add(key, bytes.subarray(reader.offset, reader.offset + reader.code));
        else this.coalesced[protocol]!++;
      }
    }
    this.#fetches.send();
    // Answers that landed earlier this turn for this link leave with the hits.
    if (replies.length > 0) out.send(replies.finish());
    this.#publish();
  }

  /**
   * A hit on an entry near or past its TTL: past it (within
   * STALE_WHILE_REVALIDATE_MS) the answer is stale and a refresh starts;
   * before it, XFetch's draw decides. One refresh per key: a fetch already
   * in flight (a refresh, or misses) will replace the entry when it lands.
   */
  #refresh(bytes: Buffer, offset: number, length: number, age: number): void {
    if (age >= this.#ttlMs) this.servedStale++;
    else if (-this.#deltaMs * this.#beta * Math.log(1 - Math.random()) < this.#ttlMs - age) return;
    const key = bytes.latin1Slice(offset, offset + length);
    if (this.flights.has(key)) return;
    this.flights.join(key, REFRESH);
    this.refreshesStarted++;
    this.#fetches.add(key, bytes.subarray(offset, offset + length));
  }

  /**
   * Updates XFetch's delta and the age from which hits draw; once per batch.
   * Delta is how long a refresh takes to replace the entry: the mean Redis
   * round trip so far plus this thread's event-loop delay (p99 over the last
   * window), since under load the landing waits its turn. With the round
   * trip alone, the stampede test saw 3 of 20 expiries pass before their
   * refresh landed.
   */
  #earlyHorizon(): void {
    const s = this.stats;
    const count = s[Stat.LatencyCount]!;
    this.#deltaMs = (count > 0 ? (s[Stat.LatencySum]! / count) * 1000 : 1) + s[Stat.LoopP99]! * 1000;
    this.#refreshAt = Math.min(this.#ttlMs, this.#ttlMs - this.#deltaMs * this.#beta * EARLY_HORIZON);
  }

  #land(key: string, result: Buffer | Outcome): void {
    const now = this.#now();
    // Asked before `land`, which clears the poison mark.
    const keep = this.caching && !this.flights.poisoned(key);
    const waiters = this.flights.land(key);
    if (typeof result !== 'number') {
      this.#answerValue(key, result, waiters, now, keep);
    } else {
      // Whatever an entry of the key held is gone (a refresh, or a miss of a stale entry, learns it here).
      if (result === Outcome.NotFound || result === Outcome.WrongType) this.cache.delete(key);
      else if (waiters.includes(REFRESH)) this.refreshesFailed++;
      if (!(this.#staleMs > 0 && this.#answerStale(key, result, waiters, now))) {
        // Stamped as if inserted earlier (or later), so that the cache's one
        // TTL check expires it `negativeTtlMs` from now.
        if (keep && result === Outcome.NotFound && this.#negativeTtlMs > 0) this.cache.set(key, undefined, now - this.cache.ttl + this.#negativeTtlMs);
        for (let i = 0; i < waiters.length; i++) this.#replyTo(waiters[i]!)?.addOutcome(waiters[i]! % LINK_SPAN, result);
      }
    }
    if (!this.#flushScheduled) {
      // Fetches that complete in the same turn share one reply batch.
      this.#flushScheduled = true;
      setImmediate(this.#flushLater);
    }
  }

  #answerValue(key: string, fetched: Buffer, waiters: number[], now: number, keep: boolean): void {
    if (!keep || !this.#caches || fetched.length > this.#maxValueBytes) {
      // Served from the fetched view (copied once, into the reply batch) and
      // not kept, so neither a private copy nor an ETag is worth making.
      if (keep && this.#caches) this.tooLarge++;
      for (let i = 0; i < waiters.length; i++) this.#replyTo(waiters[i]!)?.addValue(waiters[i]! % LINK_SPAN, fetched, 0, undefined);
      return;
    }
    // The one copy a cached value needs is into the store's arena: the
    // fetched Buffer is a view into the Redis socket's read chunk, and
    // keeping the view would pin that whole chunk.
    etagWords(fetched);
    const entry = this.cache.set(key, fetched, now, etagOut[0], etagOut[1]);
    if (entry === MISS) {
      // Its block, metadata and index share outweigh the shard's budget alone.
      this.tooLarge++;
      for (let i = 0; i < waiters.length; i++) this.#replyTo(waiters[i]!)?.addValue(waiters[i]! % LINK_SPAN, fetched, 0, undefined);
      return;
    }
    for (let i = 0; i < waiters.length; i++) {
      const replies = this.#replyTo(waiters[i]!);
      if (replies !== undefined) this.#answerEntry(replies, waiters[i]! % LINK_SPAN, entry, this.cache.age(entry, now));
    }
  }

  /** Answers request `id` from the store's `entry`: its bytes are copied into the reply batch now. */
  #answerEntry(replies: BatchWriter, id: number, entry: number, age: number): void {
    const c = this.cache;
    const length = c.valueLength(entry);
    if (length === ABSENT) replies.addOutcome(id, Outcome.NotFound);
    else replies.addStored(id, c.page(entry), c.valueStart(entry), length, age, c.etagHigh(entry), c.etagLow(entry));
  }

  /**
   * With STALE_IF_ERROR_MS: when Redis failed, answers with the expired
   * entry if it is still within the grace (returns true). When Redis says
   * the key is gone or of another type, the stale entry is dropped instead.
   */
  #answerStale(key: string, outcome: Outcome, waiters: number[], now: number): boolean {
    if (outcome === Outcome.NotFound || outcome === Outcome.WrongType) return false;
    const entry = this.cache.stale(key, now);
    if (entry === MISS) return false;
    for (let i = 0; i < waiters.length; i++) {
      // A refresh's waiter is nobody: only clients count as served.
      if (waiters[i] !== REFRESH) this.staleServed++;
      const replies = this.#replyTo(waiters[i]!);
      if (replies !== undefined) this.#answerEntry(replies, waiters[i]! % LINK_SPAN, entry, this.cache.age(entry, now));
    }
    return true;
  }

  /**
   * The reply batch of `waiter`'s link, marked to be sent at the end of the
   * turn; `undefined` when that link has closed (nobody is left to answer).
   */
  #replyTo(waiter: number): BatchWriter | undefined {
    const link = this.#links[Math.floor(waiter / LINK_SPAN)];
    if (link === undefined) return undefined;
    if (!link.dirty) {
      link.dirty = true;
      this.#dirty.push(link);
    }
    return link.replies;
  }

  readonly #flushLater = (): void => {
    this.#flushScheduled = false;
    const dirty = this.#dirty;
    for (let i = 0; i < dirty.length; i++) {
      const link = dirty[i]!;
      link.dirty = false;
      // Empty when `receive` sent them already, or the link closed.
      if (link.replies.length > 0) link.send(link.replies.finish());
    }
    dirty.length = 0;
    this.#publish();
  };

  /** Copies the counters into the shared stats: a few stores per batch, none per request. */
  #publish(): void {
    const s = this.stats;
    const b = this.#base;
    for (let p = 0; p < PROTOCOLS.length; p++) {
      s[Stat.Hits + p] = b[Stat.Hits + p]! + this.hits[p]!;
      s[Stat.Misses + p] = b[Stat.Misses + p]! + this.misses[p]!;
      s[Stat.Coalesced + p] = b[Stat.Coalesced + p]! + this.coalesced[p]!;
    }
    s[Stat.Expired] = b[Stat.Expired]! + this.cache.expired;
    s[Stat.Evicted] = b[Stat.Evicted]! + this.cache.evicted;
    s[Stat.StaleServed] = b[Stat.StaleServed]! + this.staleServed;
    s[Stat.TooLarge] = b[Stat.TooLarge]! + this.tooLarge;
    s[Stat.RefreshesStarted] = b[Stat.RefreshesStarted]! + this.refreshesStarted;
    s[Stat.RefreshesFailed] = b[Stat.RefreshesFailed]! + this.refreshesFailed;
    s[Stat.ServedStale] = b[Stat.ServedStale]! + this.servedStale;
    s[Stat.Entries] = this.cache.size;
    s[Stat.Bytes] = this.cache.bytes;
  }
}
