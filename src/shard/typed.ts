/**
 * A shard's typed commands (HGET, LRANGE, ZRANGE, EXISTS, TTL…): each is
 * evaluated against its key's one cached entry, whatever the key's type,
 * and its whole reply is written into the reply batch (`addEncoded`).
 *
 * A miss joins the key's flight like a GET (one fetch per key however many
 * commands wait), remembering its arguments until the fetch lands. A flight
 * started here reads the key with the typed script (`typed-read.ts`); a
 * flight started by a GET reads it as a string, and when that read finds a
 * key of another type the flight stays open and the typed script reads it
 * (`refetch`), so an invalidation meanwhile still poisons it. Typed
 * commands waiting on a string read are answered from what it found
 * (`take`, `answerTaken`).
 *
 * What a landed value cannot be cached for (over MAX_VALUE_BYTES, poisoned,
 * caching off) is answered from the fetched value, not kept; a key not kept
 * for its size alone is remembered, and its next commands are forwarded to
 * Redis one by one (`forward.ts`).
 */
import { etagOut, etagWords } from '../cache/etag.js';
import type { Flights } from '../cache/singleflight.js';
import { ABSENT, MISS, type Store } from '../cache/store.js';
import type { BatchReader, BatchWriter } from '../hop/wire.js';
import { HTTP_VIEWS, Outcome, RESP3_FLAG } from '../hop/vocabulary.js';
import { Stat } from '../metrics/shard-stats.js';
import { answerGet, type JsonAnswer } from './answer.js';
import { BatchFetch, type FetchWithLife } from './batch-fetch.js';
import { Found, STRING } from './commands/found.js';
import { type Forward, Forwarding, type Pending } from './forward.js';
import { answerView } from './typed-views.js';
import { JsonWriter } from './commands/json-writer.js';
import { ReplyWriter } from './commands/reply-writer.js';
import { TYPED_COMMANDS, type TypedCommand } from './commands/table.js';
import type { MissLimit } from './miss-limit.js';
import { LINK_SPAN, type ReplyLinks } from './reply-links.js';

/** The shard's parts a typed read shares: its cache, flights, limit and counters. */
export interface TypedShard {
  readonly cache: Store;
  readonly flights: Flights<number>;
  readonly limit: MissLimit;
  readonly stats: Float64Array;
  /** Per protocol, the shard's hit, miss and coalesced counts. */
  readonly hits: Float64Array;
  readonly misses: Float64Array;
  readonly coalesced: Float64Array;
  /** Whether answers landing now may be cached at all. */
  readonly caching: boolean;
  /** Values answered but not cached for their size. */
  tooLarge: number;
}

/** The rest of what a typed read needs of its shard: its links and clock, and its settings (`ShardOptions`). */
export interface TypedParts {
  links: ReplyLinks;
  now: () => number;
  /** Whether landed values are cached at all, and the largest one that is. */
  caches: boolean;
  maxValueBytes: number;
  negativeTtlMs?: number;
  /** The typed script's reads; absent: keys of other types answer WRONGTYPE, typed commands an error. */
  fetchTyped?: FetchWithLife | undefined;
  resend?: ((started: number) => Promise<boolean>) | undefined;
  /** Sends one command to Redis; absent: a key too large to cache is read whole for every command. */
  forward?: Forward | undefined;
}

/** The family the HTTP views of typed values count under (`TYPED_FAMILIES`: keys, as they read any type). */
const FAMILY_OF_VIEWS = 0;

/** See the file comment. */
export class TypedReads implements JsonAnswer {
  /** Typed commands waiting on a fetch, by waiter (`link * LINK_SPAN + id`). */
  readonly pending = new Map<number, Pending>();
  /** Keys too large to cache and their forwarded commands; absent without `forward` or a typed read. */
  readonly forwarding: Forwarding | undefined;
  readonly #s: TypedShard;
  readonly #p: TypedParts;
  readonly #fetches: BatchFetch | undefined;
  readonly #found = new Found();
  readonly #out = new ReplyWriter();
  readonly #json = new JsonWriter();
  #args: string[] = [];
  /** Typed waiters taken out of a string flight's waiters (`take`). */
  #taken: number[] = [];

  constructor(shard: TypedShard, parts: TypedParts) {
    this.#s = shard;
    this.#p = parts;
    const fetchTyped = parts.fetchTyped;
    this.#fetches =
      fetchTyped &&
      new BatchFetch({
        // Unused: with fetchWithLife, every batch goes through it.
        fetch: () => Promise.resolve(Outcome.RedisError),
        fetchWithLife: fetchTyped,
        resend: parts.resend,
        land: (key, result, lifeMs) => this.#land(key, result, lifeMs),
        stats: shard.stats,
        now: parts.now,
      });
    this.forwarding = fetchTyped && parts.forward && new Forwarding(shard, parts.links, parts.forward, this.pending);
  }

  /** Handles the typed command `reader` is at (its key is the payload's first `keyLength` bytes): answers a hit now, else joins its key's flight. */
  receive(replies: BatchWriter, reader: BatchReader, keyLength: number, base: number, now: number): void {
    const p = this.#s;
    const bytes = reader.buffer;
    const at = reader.offset;
    // Decoded once: the family counts it, and a hit runs it.
    const argc = this.#decode(bytes, at + keyLength, at + reader.code);
    const command = this.#command();
    const family = command?.family ?? FAMILY_OF_VIEWS;
    const entry = p.cache.get(bytes, at, keyLength, now);
    if (entry !== MISS) {
      p.hits[reader.protocol]!++;
      p.stats[Stat.TypedHits + family]!++;
      this.#run(replies, reader.id, this.#entryFound(entry, now), argc, command, reader.meta, p.cache.age(entry, now), entry);
      return;
    }
    if (this.#fetches === undefined) return replies.addOutcome(reader.id, Outcome.RedisError);
    const key = bytes.latin1Slice(at, at + keyLength);
    const waiter = base + reader.id;
    const f = this.forwarding;
    // Asked only while some key is oversized: the map is empty otherwise.
    if (f !== undefined && f.markers.size > 0 && f.receive(replies, reader, key, keyLength, waiter, this.#args, argc, command, now)) return;
    if (!p.limit.admit()) {
      p.limit.shed++;
      return replies.addOutcome(reader.id, Outcome.Overloaded);
    }
    p.misses[reader.protocol]!++;
    p.stats[Stat.TypedMisses + family]!++;
    this.pending.set(waiter, { args: bytes.subarray(at + keyLength, at + reader.code), meta: reader.meta });
    if (p.flights.join(key, waiter)) this.#fetches.add(key, bytes.subarray(at, at + keyLength));
    else p.coalesced[reader.protocol]!++;
  }

  /** Sends the typed reads gathered from a request batch. */
  send(): void {
    this.#fetches?.send();
  }

  /**
   * A string read found `key` to be of another type: reads it again with the
   * typed script, its flight still open. False when there is no typed read,
   * or no need of one (an oversized key's GETs answer WRONGTYPE).
   */
  refetch(key: string): boolean {
    if (this.#fetches === undefined) return false;
    // Known too large to cache and not a string: GETs answer WRONGTYPE unread (HTTP then asks for its JSON).
    if (this.pending.size === 0 && (this.forwarding?.markers.kind(key, this.#p.now()) ?? STRING) > STRING) return false;
    this.#fetches.add(key, Buffer.from(key, 'latin1'));
    this.#fetches.send();
    return true;
  }

  /** Moves the typed commands out of a string flight's `waiters` (in place), to be answered by `answerTaken`. */
  take(waiters: number[]): void {
    let kept = 0;
    for (let i = 0; i < waiters.length; i++) {
      const w = waiters[i]!;
      if (this.pending.has(w)) this.#taken.push(w);
      else waiters[kept++] = w;
    }
    waiters.length = kept;
  }

  /** Answers the commands `take` moved out, from what the string read found: a value, or an outcome. */
  answerTaken(result: Buffer | Outcome, lifeMs: number): void {
    const taken = this.#taken;
    if (taken.length === 0) return;
    this.#taken = [];
    for (const w of taken) {
      if (typeof result === 'number' && result !== Outcome.NotFound) this.#outcome(w, result);
      else if (typeof result === 'number') this.#answerFound(w, this.#found.absent(), 0);
      else this.#answerFound(w, this.#found.string(result, 0, result.length, lifeMs), 0);
    }
  }

  /** A typed read landed: a tagged value (`typed-read.ts`) or an outcome. */
  #land(key: string, result: Buffer | Outcome, lifeMs: number): void {
    const p = this.#p;
    const s = this.#s;
    const now = p.now();
    // Asked before `land`, which clears the poison mark.
    const keep = s.caching && !s.flights.poisoned(key);
    const waiters = s.flights.land(key);
    s.limit.landed(waiters);
    if (typeof result === 'number') {
      if (result === Outcome.NotFound) {
        s.cache.delete(key);
        const negativeTtlMs = p.negativeTtlMs ?? 0;
        if (keep && negativeTtlMs > 0) s.cache.set(key, undefined, now - s.cache.ttl + negativeTtlMs);
      }
      for (const w of waiters) {
        if (result === Outcome.NotFound && this.pending.has(w)) this.#answerFound(w, this.#found.absent(), 0);
        else this.#outcome(w, result);
      }
      return p.links.flushSoon();
    }
    const string = result[0] === 0;
    const value = string ? result.subarray(1) : result;
    let entry = MISS;
    if (keep && p.caches) {
      if (value.length <= p.maxValueBytes) {
        etagWords(value);
        entry = s.cache.set(key, value, now, etagOut[0], etagOut[1], lifeMs);
      }
      if (entry === MISS) s.tooLarge++;
      else if (!string) s.cache.markTyped(entry);
      // Too large (and only that): remembered, so its next commands go to Redis one by one.
      this.forwarding?.landed(key, entry !== MISS ? -1 : string ? STRING : value[0]!, lifeMs, now);
    }
    for (const w of waiters) {
      const replies = p.links.replyTo(w);
      const pending = this.pending.get(w);
      this.pending.delete(w);
      if (replies === undefined) continue;
      if (entry !== MISS && pending !== undefined) this.#answerEntry(replies, w % LINK_SPAN, entry, now, pending.args, pending.meta);
      else if (entry !== MISS) answerGet(replies, s.cache, w % LINK_SPAN, entry, 0, now);
      else if (pending !== undefined)
        this.#answerFound(w, string ? this.#found.string(value, 0, value.length, lifeMs) : this.#found.typed(value, 0, lifeMs), 0, pending);
      else if (string) replies.addValue(w % LINK_SPAN, value, 0, undefined, lifeMs);
      else replies.addOutcome(w % LINK_SPAN, Outcome.WrongType);
    }
    p.links.flushSoon();
  }

  /** Answers waiter `w` with `outcome` (a failure, or a GET's absence). */
  #outcome(w: number, outcome: Outcome): void {
    this.pending.delete(w);
    this.#p.links.replyTo(w)?.addOutcome(w % LINK_SPAN, outcome);
  }

  /** Runs waiter `w`'s command against `found`, `age` ms old. */
  #answerFound(w: number, found: Found, age: number, pending = this.pending.get(w)): void {
    this.pending.delete(w);
    const replies = this.#p.links.replyTo(w);
    if (replies === undefined || pending === undefined) return;
    const argc = this.#decode(pending.args, 0, pending.args.length);
    this.#run(replies, w % LINK_SPAN, found, argc, this.#command(), pending.meta, age);
  }

  /** An HTTP GET of a typed entry: its JSON. */
  json(replies: BatchWriter, id: number, entry: number, age: number, now: number): void {
    this.#args[0] = HTTP_VIEWS.Json;
    answerView(replies, id, this.#entryFound(entry, now), age, entry, this.#s.cache, this.#args, this.#json);
  }

  /** `found` for the store's `entry`. */
  #entryFound(entry: number, now: number): Found {
    const c = this.#s.cache;
    const found = this.#found;
    const lifeMs = c.lifeMs(entry, now);
    if (c.valueLength(entry) === ABSENT) found.absent();
    else if (c.typed(entry)) found.typed(c.page(entry), c.valueStart(entry), lifeMs);
    else found.string(c.page(entry), c.valueStart(entry), c.valueStart(entry) + c.valueLength(entry), lifeMs);
    return found;
  }

  /** Runs a command with encoded `args` against the store's `entry`. */
  #answerEntry(replies: BatchWriter, id: number, entry: number, now: number, args: Buffer, meta: number): void {
    const argc = this.#decode(args, 0, args.length);
    this.#run(replies, id, this.#entryFound(entry, now), argc, this.#command(), meta, this.#s.cache.age(entry, now), entry);
  }

  /** The command named by `#args[0]` (most clients send it in upper case), or undefined for an HTTP view. */
  #command(): TypedCommand | undefined {
    const name = this.#args[0]!;
    return TYPED_COMMANDS.get(name) ?? TYPED_COMMANDS.get(name.toUpperCase());
  }

  /** Runs the decoded `#args[0, argc)`, `command` or an HTTP view, against `found`. */
  #run(
    replies: BatchWriter,
    id: number,
    found: Found,
    argc: number,
    command: TypedCommand | undefined,
    meta: number,
    age: number,
    entry = MISS,
  ): void {
    if (command === undefined) return answerView(replies, id, found, age, entry, this.#s.cache, this.#args, this.#json);
    const out = this.#out.reset((meta & RESP3_FLAG) !== 0);
    command.run(found, this.#args, argc, out);
    replies.addEncoded(id, out.buf, 0, out.length, age, found.kind < 0 ? -1 : found.lifeMs);
  }

  /** Decodes `addCommand`'s arguments `bytes[from, end)` into `#args`; returns their count. */
  #decode(bytes: Buffer, from: number, end: number): number {
    let argc = 0;
    for (let at = from; at < end; argc++) {
      const length = bytes.readUInt32LE(at);
      this.#args[argc] = bytes.latin1Slice(at + 4, at + 4 + length);
      at += 4 + length;
    }
    return argc;
  }
}
