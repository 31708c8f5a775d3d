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
import { etagOf } from '../cache/etag.js';
import { LRU } from '../cache/lru.js';
import { Flights } from '../cache/singleflight.js';
import { BatchReader, BatchWriter, Outcome, PROTOCOLS } from '../hop/wire.js';
import { newShardStats, Stat } from '../metrics/shard-stats.js';
import { BatchFetch, type Fetch, type FetchMany } from './batch-fetch.js';

export type { Fetch, FetchMany } from './batch-fetch.js';

/** A cached value and what its answers need besides the bytes, all computed once at insertion. */
export interface Cached {
  value: Buffer;
  /** Quoted ETag bytes (`etagOf`). */
  etag: Buffer;
  /** When it was fetched, on the shard's clock: answers carry its age. */
  at: number;
}

/**
 * What the cache holds for a key Redis said is absent (`negativeTtlMs`):
 * recognised by identity, so an empty value is never mistaken for it.
 */
const ABSENT: Cached = { value: Buffer.alloc(0), etag: Buffer.alloc(0), at: 0 };

/** A shard's cache sizing, limits, and its ends: the fetch and the reply sender. */
export interface ShardOptions {
  /** Entries this shard's LRU holds. */
  capacity: number;
  /** Value bytes this shard's LRU holds (its share of CACHE_MAX_BYTES); default: no limit. */
  maxBytes?: number;
  /** How long a "key absent" answer is cached, in milliseconds; 0 (the default) never caches it. */
  negativeTtlMs?: number;
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

/** Where a link's replies go: its sender and the reply batch being filled for it. */
interface Link {
  send: (batch: ArrayBuffer) => void;
  replies: BatchWriter;
  /** Queued in `#dirty`, to be flushed at the end of the turn. */
  dirty: boolean;
}

/** One shard: batches in, reply batches out; the cache, coalescing and stats of one worker. */
export class Shard {
  readonly cache: LRU<Cached>;
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
    this.cache = new LRU<Cached>({ capacity: options.capacity, ttl: options.ttlMs, grace: this.#staleMs, weigh: (c) => c.value.length, maxBytes });
    this.#now = options.now ?? performance.now.bind(performance);
    // A value the byte budget cannot hold is answered uncached, and counted as too large, like one over MAX_VALUE_BYTES.
    this.#maxValueBytes = Math.min(options.maxValueBytes ?? Number.POSITIVE_INFINITY, maxBytes);
    this.#caches = options.capacity > 0 && options.ttlMs + this.#staleMs > 0;
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
    reader.reset(batch);
    while (reader.next()) {
      const bytes = reader.buffer;
      const key = bytes.latin1Slice(reader.offset, reader.offset + reader.code);
      const entry = this.cache.get(key, now);
      const protocol = reader.protocol;
      if (entry !== undefined) {
        this.hits[protocol]!++;
        if (entry === ABSENT) replies.addOutcome(reader.id, Outcome.NotFound);
        else replies.addValue(reader.id, entry.value, now - entry.at, entry.etag);
      } else {
        this.misses[protocol]!++;
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

  #land(key: string, result: Buffer | Outcome): void {
    const now = this.#now();
    // Asked before `land`, which clears the poison mark.
    const keep = this.caching && !this.flights.poisoned(key);
    const waiters = this.flights.land(key);
    if (typeof result !== 'number') {
      this.#answerValue(key, result, waiters, now, keep);
    } else if (!(this.#staleMs > 0 && this.#answerStale(key, result, waiters, now))) {
      // Stamped as if inserted earlier (or later), so that the cache's one
      // TTL check expires it `negativeTtlMs` from now.
      if (keep && result === Outcome.NotFound && this.#negativeTtlMs > 0) this.cache.set(key, ABSENT, now - this.cache.ttl + this.#negativeTtlMs);
      for (let i = 0; i < waiters.length; i++) this.#replyTo(waiters[i]!)?.addOutcome(waiters[i]! % LINK_SPAN, result);
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
    // The one copy a cached value needs: the fetched Buffer is a view into
    // the Redis socket's read chunk, and keeping the view would pin that
    // whole chunk (other replies included) for as long as the entry lives.
    // An unpooled buffer of exactly the value's size owns only its bytes.
    const value = Buffer.allocUnsafeSlow(fetched.length);
    fetched.copy(value);
    const entry: Cached = { value, etag: etagOf(value), at: now };
    this.cache.set(key, entry, now);
    for (let i = 0; i < waiters.length; i++) this.#replyTo(waiters[i]!)?.addValue(waiters[i]! % LINK_SPAN, value, 0, entry.etag);
  }

  /**
   * With STALE_IF_ERROR_MS: when Redis failed, answers with the expired
   * entry if it is still within the grace (returns true). When Redis says
   * the key is gone or of another type, the stale entry is dropped instead.
   */
  #answerStale(key: string, outcome: Outcome, waiters: number[], now: number): boolean {
    if (outcome === Outcome.NotFound || outcome === Outcome.WrongType) {
      this.cache.delete(key);
      return false;
    }
    const entry = this.cache.stale(key, now);
    if (entry === undefined) return false;
    this.staleServed += waiters.length;
    if (entry === ABSENT) {
      for (let i = 0; i < waiters.length; i++) this.#replyTo(waiters[i]!)?.addOutcome(waiters[i]! % LINK_SPAN, Outcome.NotFound);
      return true;
    }
    for (let i = 0; i < waiters.length; i++) this.#replyTo(waiters[i]!)?.addValue(waiters[i]! % LINK_SPAN, entry.value, now - entry.at, entry.etag);
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
    s[Stat.Entries] = this.cache.size;
    s[Stat.Bytes] = this.cache.bytes;
  }
}
