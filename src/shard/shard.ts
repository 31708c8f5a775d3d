/**
 * One shard's request handling, independent of threads: it takes a packed
 * request batch, answers the hits in one reply batch at once, coalesces the
 * misses into one fetch per key, and sends their answers in later reply
 * batches as the fetches complete. The worker entry wires it to a
 * MessagePort and an ioredis connection; tests drive it in-process.
 */
import { LRU } from '../cache/lru.js';
import { Flights } from '../cache/singleflight.js';
import { BatchReader, BatchWriter, Outcome } from '../hop/wire.js';

/**
 * Fetches one key from the backing store. Resolves with the value, or with
 * an `Outcome` (absent, unavailable, …); never rejects. The value may be a
 * view into a larger buffer: the shard copies what it keeps.
 */
export type Fetch = (key: Buffer) => Promise<Buffer | Outcome>;

/**
 * What the cache holds for a key Redis said is absent (`negativeTtlMs`):
 * recognised by identity, so an empty value is never mistaken for it.
 */
const ABSENT = Buffer.alloc(0);

export interface ShardOptions {
  /** Entries this shard's LRU holds. */
  capacity: number;
  /** Time-to-live of a cached value, in milliseconds from insertion. */
  ttlMs: number;
  /** How long a "key absent" answer is cached, in milliseconds; 0 (the default) never caches it. */
  negativeTtlMs?: number;
  fetch: Fetch;
  /** Takes ownership of a packed reply batch (the worker transfers it to the main thread). */
  send: (batch: ArrayBuffer) => void;
  /**
   * Called before the first fetch of a request batch and after its last,
   * so that the backend can send all of a batch's GETs in one write
   * instead of one system call each.
   */
  cork?: () => void;
  uncork?: () => void;
  /** Monotonic clock in milliseconds; injectable for tests. */
  now?: () => number;
}

export class Shard {
  readonly cache: LRU<Buffer>;
  readonly flights = new Flights<number>();
  hits = 0;
  misses = 0;
  /**
   * Whether answers that land may be cached. Invalidation turns it off while
   * tracking is not armed, since nothing would report a later change.
   */
  caching = true;

  readonly #fetch: Fetch;
  readonly #send: (batch: ArrayBuffer) => void;
  readonly #cork: (() => void) | undefined;
  readonly #uncork: (() => void) | undefined;
  readonly #now: () => number;
  readonly #negativeTtlMs: number;
  readonly #reader = new BatchReader();
  readonly #replies = new BatchWriter();
  #flushScheduled = false;

  constructor(options: ShardOptions) {
    this.cache = new LRU<Buffer>({ capacity: options.capacity, ttl: options.ttlMs });
    this.#fetch = options.fetch;
    this.#send = options.send;
    this.#cork = options.cork;
    this.#uncork = options.uncork;
    this.#now = options.now ?? performance.now.bind(performance);
    this.#negativeTtlMs = options.negativeTtlMs ?? 0;
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
   * for its misses.
   */
  receive(batch: ArrayBuffer): void {
    const reader = this.#reader;
    const now = this.#now();
    let corked = false;
    reader.reset(batch);
    while (reader.next()) {
      const bytes = reader.buffer;
      const key = bytes.latin1Slice(reader.offset, reader.offset + reader.code);
      const value = this.cache.get(key, now);
      if (value !== undefined) {
        this.hits++;
        if (value === ABSENT) this.#replies.addOutcome(reader.id, Outcome.NotFound);
        else this.#replies.addValue(reader.id, value);
      } else {
        this.misses++;
        if (this.flights.join(key, reader.id)) {
          if (!corked && this.#cork !== undefined) {
            corked = true;
            this.#cork();
          }
          // The view keeps the request batch alive until the command is
          // written; nothing else writes to that buffer.
          this.#fetch(bytes.subarray(reader.offset, reader.offset + reader.code)).then((result) => this.#land(key, result));
        }
      }
    }
    if (corked) this.#uncork!();
    this.#flush();
  }

  #land(key: string, result: Buffer | Outcome): void {
    // Asked before `land`, which clears the poison mark.
    const keep = this.caching && !this.flights.poisoned(key);
    const waiters = this.flights.land(key);
    if (typeof result === 'number') {
      // Stamped as if inserted earlier (or later), so that the cache's one
      // TTL check expires it `negativeTtlMs` from now.
      if (keep && result === Outcome.NotFound && this.#negativeTtlMs > 0) this.cache.set(key, ABSENT, this.#now() - this.cache.ttl + this.#negativeTtlMs);
      for (let i = 0; i < waiters.length; i++) this.#replies.addOutcome(waiters[i]!, result);
    } else {
      let value = result;
      if (keep) {
        // The one copy a cached value needs: the fetched Buffer is a view into
        // the Redis socket's read chunk, and keeping the view would pin that
        // whole chunk (other replies included) for as long as the entry lives.
        // An unpooled buffer of exactly the value's size owns only its bytes.
        value = Buffer.allocUnsafeSlow(result.length);
        result.copy(value);
        this.cache.set(key, value, this.#now());
      }
      for (let i = 0; i < waiters.length; i++) this.#replies.addValue(waiters[i]!, value);
    }
    if (!this.#flushScheduled) {
      // Fetches that complete in the same turn share one reply batch.
      this.#flushScheduled = true;
      setImmediate(this.#flushLater);
    }
  }

  readonly #flushLater = (): void => {
    this.#flushScheduled = false;
    this.#flush();
  };

  #flush(): void {
    if (this.#replies.length > 0) this.#send(this.#replies.finish());
  }
}
