/**
 * One shard's request handling, independent of threads: it takes a packed
 * request batch, answers the hits in one reply batch at once, coalesces the
 * misses into one flight per key, fetches the batch's new flights together
 * (`BatchFetch`: one MGET), and sends their answers in later reply batches
 * as the fetches complete.
 *
 * Batches come in over *links*, one per acceptor thread; a reply goes back over the link its
 * request came by. Coalescing does not care: twenty clients on four acceptors missing one key wait
 * on one flight, whose waiters remember their link. The worker entry wires links to MessagePorts
 * and the fetches to ioredis; tests drive it in-process.
 */
import { etagOut, etagWords } from '../cache/etag.js';
import { Flights } from '../cache/singleflight.js';
import { MISS, Store } from '../cache/store.js';
import { isReturned } from '../hop/buffer-pool.js';
import { BatchReader, type BatchWriter } from '../hop/wire.js';
import { Outcome, Protocol, PROTOCOLS } from '../hop/vocabulary.js';
import { newShardStats } from '../metrics/shard-stats.js';
import { answerGet } from './answer.js';
import { BatchFetch } from './batch-fetch.js';
import { MissLimit } from './miss-limit.js';
import type { ShardOptions } from './shard-options.js';
import { Refresh, REFRESH } from './refresh.js';
import { LINK_SPAN, ReplyLinks } from './reply-links.js';
import { publishShard } from './publish.js';
import { TypedReads } from './typed.js';

export type { Fetch, FetchMany } from './batch-fetch.js';
export type { ShardOptions } from './shard-options.js';

/**
 * A reply batch leaves as soon as it holds this many bytes, not waiting for the rest of the request
 * batch: with large values the acceptor writes the first answers while this thread copies the next,
 * rather than the two taking turns on one batch of many megabytes. (256 KiB values, by hand: 3.8k
 * req/s with one reply batch per request batch, 5.5–6.2k flushing at 1 MiB, 5.0–5.9k at 256 KiB.)
 */
export const REPLY_FLUSH_BYTES = 1 << 20;

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
  staleIfErrorServed = 0;
  tooLarge = 0;
  /** When hits refresh their entry (stale-while-revalidate, early refresh), and the counts of it. */
  readonly refresh: Refresh;
  /** Requests waiting on Redis, and the misses refused past MAX_INFLIGHT. */
  readonly limit: MissLimit;
  /**
   * Whether answers that land may be cached. Invalidation turns it off while
   * tracking is not armed, since nothing would report a later change.
   */
  caching = true;

  readonly #fetches: BatchFetch;
  /** The acceptors' links, and the reply batches being filled for them. */
  readonly #links = new ReplyLinks(() => this.#publish());
  readonly #now: () => number;
  readonly #staleIfErrorMs: number;
  readonly #negativeTtlMs: number;
  readonly #maxValueBytes: number;
  /** Whether a fetched value can ever be served from the cache (else it is neither copied nor tagged). */
  readonly #caches: boolean;
  /** The counters as they were when this shard started (a replaced worker's), added to its own. */
  readonly #base: Float64Array;
  readonly #reader = new BatchReader();
  /** Typed commands (HGET, LRANGE, …) and the reads of keys of any type. */
  readonly #typed: TypedReads;

  constructor(options: ShardOptions) {
    this.#staleIfErrorMs = options.staleIfErrorMs ?? 0;
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    const swrMs = options.staleWhileRevalidateMs ?? 0;
    this.cache = new Store({
      capacity: options.capacity,
      ttl: options.cacheTtlMs,
      swr: swrMs,
      grace: this.#staleIfErrorMs,
      maxBytes,
      eviction: options.eviction ?? 'lru',
    });
    this.refresh = new Refresh(options.cacheTtlMs, swrMs, options.earlyRefreshBeta ?? 0);
    this.limit = new MissLimit(options.maxInflight ?? Number.POSITIVE_INFINITY);
    this.#now = options.now ?? performance.now.bind(performance);
    // A value the byte budget cannot hold is answered uncached, and counted as too large, like one over MAX_VALUE_BYTES.
    this.#maxValueBytes = Math.min(options.maxValueBytes ?? Number.POSITIVE_INFINITY, maxBytes);
    this.#caches = options.capacity > 0 && options.cacheTtlMs + swrMs + this.#staleIfErrorMs > 0;
    this.stats = options.stats ?? newShardStats();
    this.#base = Float64Array.from(this.stats);
    this.#negativeTtlMs = options.negativeTtlMs ?? 0;
    this.#fetches = new BatchFetch({
      fetch: options.fetch,
      fetchMany: options.fetchMany,
      fetchWithLife: options.fetchWithLife,
      maxKeys: options.maxKeysPerFetch,
      ...(options.resend ? { resend: options.resend } : {}),
      land: (key, result, lifeMs) => this.#land(key, result, lifeMs),
      stats: this.stats,
      now: this.#now,
    });
    const [links, now, caches, maxValueBytes] = [this.#links, this.#now, this.#caches, this.#maxValueBytes];
    this.#typed = new TypedReads(this, { ...options, links, now, caches, maxValueBytes });
    this.#publish();
  }

  /**
   * Opens a link: reply batches for the requests received over it are given
   * to `send`, which takes ownership (the worker transfers them to the
   * acceptor). Returns the link number to `receive` its batches with.
   */
  link(send: (batch: ArrayBuffer) => void): number {
    return this.#links.open(send);
  }

  /** Closes link `n` (its acceptor is gone): answers still in flight for it are dropped when they land. */
  unlink(n: number): void {
    this.#links.close(n);
  }

  /** Forgets `key`: it changed in Redis. A fetch of it in the air is answered but not cached. */
  invalidate(key: string): void {
    this.cache.delete(key);
    this.flights.poison(key);
    this.#typed.forwarding?.markers.forget(key);
  }

  /** Forgets every key (FLUSHALL, or a lost connection that may have hidden changes). */
  clear(): void {
    this.cache.clear();
    this.flights.poisonAll();
    this.#typed.forwarding?.markers.clear();
    // A flush often comes with Redis gone and no traffic: the gauges must not wait for the next batch.
    this.#publish();
  }

  /**
   * Handles one request batch. Hits are answered before this returns; each
   * miss is answered when its fetch completes, so a batch's hits never wait
   * for its misses. The keys that start a flight are fetched together once
   * the whole batch has been read. Answers go back over `link`.
   */
  receive(batch: ArrayBuffer, link: number): void {
    const out = this.#links.get(link);
    if (out === undefined) return;
    const replies = out.replies;
    if (isReturned(batch)) return replies.recycle(batch);
    const base = link * LINK_SPAN;
    const reader = this.#reader;
    const now = this.#now();
    this.refresh.update(this.stats);
    reader.reset(batch);
    while (reader.next()) {
      const bytes = reader.buffer;
      const argsLength = reader.argsLength;
      if (argsLength > 0) {
        this.#typed.receive(replies, reader, reader.code - argsLength, base, now);
        if (replies.bytes >= REPLY_FLUSH_BYTES) out.send(replies.finish());
        continue;
      }
      // Looked up from the request's bytes: a hit makes no string.
      const entry = this.cache.get(bytes, reader.offset, reader.code, now);
      const protocol = reader.protocol;
      if (entry !== MISS) {
        this.hits[protocol]!++;
        const age = this.cache.age(entry, now);
        if (age >= this.refresh.from && this.refresh.due(age)) this.#startRefresh(bytes, reader.offset, reader.code);
        // An HTTP GET of a hash, list, set or sorted set answers its JSON.
        answerGet(replies, this.cache, reader.id, entry, age, now, protocol === Protocol.Http ? this.#typed : undefined);
        if (replies.bytes >= REPLY_FLUSH_BYTES) out.send(replies.finish());
      } else if (!this.limit.admit()) {
        // Neither fetched nor joined: not counted as a miss.
        this.#refuse(replies, reader.id, bytes, reader.offset, reader.code, now);
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
    this.#typed.send();
    // Answers that landed earlier this turn for this link leave with the hits.
    if (replies.length > 0) out.send(replies.finish());
    this.#publish();
  }

  /** Fetches `bytes[offset, offset + length)` in the background, unless a fetch of it is in flight already. */
  #startRefresh(bytes: Buffer, offset: number, length: number): void {
    const key = bytes.latin1Slice(offset, offset + length);
    if (this.flights.has(key)) return;
    this.flights.join(key, REFRESH);
    this.refresh.started++;
    this.#fetches.add(key, bytes.subarray(offset, offset + length));
  }

  #land(key: string, result: Buffer | Outcome, lifeMs: number): void {
    // Another type: its flight stays open while the typed script reads it whole.
    if (result === Outcome.WrongType && this.#typed.refetch(key)) return;
    const now = this.#now();
    // Asked before `land`, which clears the poison mark.
    const keep = this.caching && !this.flights.poisoned(key);
    const waiters = this.flights.land(key);
    this.limit.landed(waiters);
    if (this.#typed.pending.size > 0) this.#typed.take(waiters);
    if (typeof result !== 'number') {
      this.#answerValue(key, result, waiters, now, keep, lifeMs);
    } else {
      // Whatever an entry of the key held is gone (a refresh, or a miss of a stale entry, learns it here).
      if (result === Outcome.NotFound || result === Outcome.WrongType) this.cache.delete(key);
      else if (waiters.includes(REFRESH)) this.refresh.failed++;
      if (!(this.#staleIfErrorMs > 0 && this.#answerStale(key, result, waiters, now))) {
        // Stamped as if inserted earlier (or later), so that the cache's one
        // TTL check expires it `negativeTtlMs` from now.
        if (keep && result === Outcome.NotFound && this.#negativeTtlMs > 0)
          this.cache.set(key, undefined, now - this.cache.ttl + this.#negativeTtlMs);
        for (let i = 0; i < waiters.length; i++) this.#links.replyTo(waiters[i]!)?.addOutcome(waiters[i]! % LINK_SPAN, result);
      }
    }
    this.#typed.answerTaken(result, lifeMs);
    this.#links.flushSoon();
  }

  #answerValue(key: string, fetched: Buffer, waiters: number[], now: number, keep: boolean, lifeMs: number): void {
    if (!keep || !this.#caches || fetched.length > this.#maxValueBytes) {
      // Served from the fetched view (copied once, into the reply batch) and
      // not kept, so neither a private copy nor an ETag is worth making.
      if (keep && this.#caches) this.tooLarge++;
      for (let i = 0; i < waiters.length; i++)
        this.#links.replyTo(waiters[i]!)?.addValue(waiters[i]! % LINK_SPAN, fetched, 0, undefined, lifeMs);
      return;
    }
    // The one copy a cached value needs is into the store's arena: the
    // fetched Buffer is a view into the Redis socket's read chunk, and
    // keeping the view would pin that whole chunk.
    etagWords(fetched);
    const entry = this.cache.set(key, fetched, now, etagOut[0], etagOut[1], lifeMs);
    if (entry === MISS) {
      // Its block, metadata and index share outweigh the shard's budget alone.
      this.tooLarge++;
      for (let i = 0; i < waiters.length; i++)
        this.#links.replyTo(waiters[i]!)?.addValue(waiters[i]! % LINK_SPAN, fetched, 0, undefined, lifeMs);
      return;
    }
    for (let i = 0; i < waiters.length; i++) {
      const replies = this.#links.replyTo(waiters[i]!);
      if (replies !== undefined) answerGet(replies, this.cache, waiters[i]! % LINK_SPAN, entry, this.cache.age(entry, now), now);
    }
  }

  /**
   * A miss past MAX_INFLIGHT: 503 at once (counted as shed) or, with
   * STALE_IF_ERROR_MS, the expired entry while within its grace, as when
   * Redis fails (nginx's `proxy_cache_use_stale http_503`, Varnish's grace).
   */
  #refuse(replies: BatchWriter, id: number, bytes: Buffer, offset: number, length: number, now: number): void {
    const entry = this.#staleIfErrorMs > 0 ? this.cache.stale(bytes.latin1Slice(offset, offset + length), now) : MISS;
    if (entry === MISS) {
      this.limit.shed++;
      replies.addOutcome(id, Outcome.Overloaded);
    } else {
      this.staleIfErrorServed++;
      answerGet(replies, this.cache, id, entry, this.cache.age(entry, now), now);
    }
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
      if (waiters[i] !== REFRESH) this.staleIfErrorServed++;
      const replies = this.#links.replyTo(waiters[i]!);
      if (replies !== undefined) answerGet(replies, this.cache, waiters[i]! % LINK_SPAN, entry, this.cache.age(entry, now), now);
    }
    return true;
  }

  /** Copies the counters into the shared stats: a few stores per batch, none per request. */
  #publish(): void {
    publishShard(this, this.#base);
  }
}
