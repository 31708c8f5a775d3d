/**
 * Typed commands on keys too large to cache (issue 22): a key whose whole
 * value a typed read found over MAX_VALUE_BYTES is remembered as oversized
 * (`oversized.ts`), and from then on each typed command on it that needs
 * the value is sent to Redis as that one command, its reply written again
 * for the client (`forwarded-reply.ts`), instead of reading the whole value
 * once more for every command. EXISTS, TYPE, TTL and PTTL are answered from
 * the marker itself, with no round trip.
 *
 * The HTTP views are forwarded too: `?field=` as HGET, `?start=&stop=` as
 * LRANGE (a list) or ZRANGE … WITHSCORES (a sorted set), rendered as the
 * JSON a cached value renders. The whole value's JSON (HTTP.JSON) is not
 * forwarded: it needs the whole value, so it reads it as before.
 *
 * Each forwarded command costs a promise and a closure: this is not the hit
 * path, and a value over MAX_VALUE_BYTES costs far more to read whole. A
 * forwarded command counts against MAX_INFLIGHT until its reply lands, as a
 * typed miss of its family, and in `tooLarge` (shardcache_too_large_total).
 */
import { encodeTyped, Kind, TypedView } from '../cache/typed-value.js';
import type { BatchReader, BatchWriter } from '../hop/wire.js';
import { HTTP_VIEWS, Outcome, RESP3_FLAG } from '../hop/vocabulary.js';
import { Stat } from '../metrics/shard-stats.js';
import { Found } from './commands/found.js';
import { type Shape, shapeOf, writeForwarded } from './commands/forwarded-reply.js';
import { valueJson } from './commands/http-views.js';
import { JsonWriter } from './commands/json-writer.js';
import { ReplyWriter } from './commands/reply-writer.js';
import { TYPED_COMMANDS, type TypedCommand } from './commands/table.js';
import type { MissLimit } from './miss-limit.js';
import { Oversized } from './oversized.js';
import { outcomeOf } from './redis/redis.js';
import { LINK_SPAN, type ReplyLinks } from './reply-links.js';

/** Sends one command (`argv`: name, key, arguments) to Redis; resolves with its decoded reply, rejects with its error. */
export type Forward = (argv: Buffer[]) => Promise<unknown>;

/** A waiting typed command: its encoded arguments (a view into its request batch) and its request meta. */
export interface Pending {
  args: Buffer;
  meta: number;
}

/** What forwarding counts in and answers through: the shard's parts (`TypedShard` has them all). */
export interface ForwardShard {
  readonly limit: MissLimit;
  readonly stats: Float64Array;
  readonly hits: Float64Array;
  readonly misses: Float64Array;
  readonly cache: { readonly ttl: number };
  tooLarge: number;
}

/** The commands answered from a marker: they need only the key's kind and life. */
const FROM_MARKER = new Set(['EXISTS', 'TYPE', 'TTL', 'PTTL'].map((name) => TYPED_COMMANDS.get(name)));

/**
 * A forwarded command that is not an HTTP view; a view is named by the
 * `Kind` it reads: `Kind.Hash` a field's bytes, `Kind.List` or `Kind.Zset`
 * a range rendered as JSON.
 */
const NOT_VIEW = 0;

/** See the file comment. */
export class Forwarding {
  /** The shard's oversized keys. */
  readonly markers: Oversized;
  readonly #s: ForwardShard;
  readonly #links: ReplyLinks;
  readonly #forward: Forward;
  /** Typed commands waiting on Redis, shared with `TypedReads` (a forwarded one waits there too). */
  readonly #pending: Map<number, Pending>;
  readonly #found = new Found();
  readonly #out = new ReplyWriter();
  readonly #json = new JsonWriter();
  readonly #view = new TypedView();

  constructor(shard: ForwardShard, links: ReplyLinks, forward: Forward, pending: Map<number, Pending>) {
    this.#s = shard;
    this.#links = links;
    this.#forward = forward;
    this.#pending = pending;
    this.markers = new Oversized(shard.cache.ttl);
  }

  /**
   * A typed read landed `key`'s value, which fitted the cache (`kind` -1:
   * its marker, if any, is forgotten) or did not (`kind` its `Found.kind`:
   * remembered, `lifeMs` left in Redis).
   */
  landed(key: string, kind: number, lifeMs: number, now: number): void {
    if (kind < 0) this.markers.forget(key);
    else this.markers.remember(key, kind, lifeMs, now);
  }

  /**
   * Handles the typed command `reader` is at, decoded into `args[0, argc)`
   * (`command` undefined for an HTTP view), when `key` has a live marker:
   * answers it from the marker or forwards it, and returns true. False: no
   * marker, or a command that reads the whole value (HTTP.JSON).
   */
  receive(
    replies: BatchWriter,
    reader: BatchReader,
    key: string,
    keyLength: number,
    waiter: number,
    args: readonly string[],
    argc: number,
    command: TypedCommand | undefined,
    now: number,
  ): boolean {
    const kind = this.markers.kind(key, now);
    if (kind < 0 || (command === undefined && args[0] === HTTP_VIEWS.Json)) return false;
    const s = this.#s;
    const family = command?.family ?? 0;
    const lifeMs = this.markers.lifeMs(key, now);
    const view = command === undefined ? this.#viewOf(args[0]!, kind) : NOT_VIEW;
    if (FROM_MARKER.has(command) || view === Outcome.WrongType) {
      // Answered here, as a hit of the cache would be.
      s.hits[reader.protocol]!++;
      s.stats[Stat.TypedHits + family]!++;
      if (view === Outcome.WrongType) {
        replies.addOutcome(reader.id, Outcome.WrongType);
        return true;
      }
      const out = this.#out.reset((reader.meta & RESP3_FLAG) !== 0);
      command!.run(this.#found.marked(kind, lifeMs), args, argc, out);
      replies.addEncoded(reader.id, out.buf, 0, out.length, 0, lifeMs);
      return true;
    }
    if (!s.limit.admit()) {
      s.limit.shed++;
      replies.addOutcome(reader.id, Outcome.Overloaded);
      return true;
    }
    s.misses[reader.protocol]!++;
    s.stats[Stat.TypedMisses + family]!++;
    s.tooLarge++;
    const at = reader.offset;
    const bytes = reader.buffer;
    this.#pending.set(waiter, { args: bytes.subarray(at + keyLength, at + reader.code), meta: reader.meta });
    const argv = this.#argv(bytes.subarray(at, at + keyLength), args, argc, view);
    const shape = shapeOf(args[0]!.toUpperCase(), args, argc);
    this.#forward(argv).then(
      (reply) => this.#answer(waiter, reply, shape, view, lifeMs),
      (err: Error) => this.#fail(waiter, err, view),
    );
    return true;
  }

  /** How an HTTP view `name` of a key of `kind` is forwarded (see `NOT_VIEW`); WrongType when the key's kind has no such view. */
  #viewOf(name: string, kind: number): number {
    if (name === HTTP_VIEWS.Field) return kind === Kind.Hash ? Kind.Hash : Outcome.WrongType;
    return kind === Kind.List || kind === Kind.Zset ? kind : Outcome.WrongType;
  }

  /** The command Redis is sent: the client's own, or the one an HTTP view reads with. */
  #argv(key: Buffer, args: readonly string[], argc: number, view: number): Buffer[] {
    const b = (s: string): Buffer => Buffer.from(s, 'latin1');
    if (view === Kind.Hash) return [b('HGET'), key, b(args[1]!)];
    if (view === Kind.List) return [b('LRANGE'), key, b(args[1]!), b(args[2]!)];
    if (view === Kind.Zset) return [b('ZRANGE'), key, b(args[1]!), b(args[2]!), b('WITHSCORES')];
    const argv = [b(args[0]!), key];
    for (let i = 1; i < argc; i++) argv.push(b(args[i]!));
    return argv;
  }

  /** The waiter's request meta, and its reply batch; undefined when its link closed (the answer is dropped). */
  #landed(waiter: number): { meta: number; replies: BatchWriter } | undefined {
    this.#s.limit.release();
    const pending = this.#pending.get(waiter);
    this.#pending.delete(waiter);
    this.#links.flushSoon();
    const replies = this.#links.replyTo(waiter);
    return pending === undefined || replies === undefined ? undefined : { meta: pending.meta, replies };
  }

  /** Redis answered: the reply written again for the client, or rendered for an HTTP view. */
  #answer(waiter: number, reply: unknown, shape: Shape, view: number, lifeMs: number): void {
    const to = this.#landed(waiter);
    if (to === undefined) return;
    const id = waiter % LINK_SPAN;
    if (view === NOT_VIEW) {
      const out = this.#out.reset((to.meta & RESP3_FLAG) !== 0);
      writeForwarded(out, shape, reply);
      return to.replies.addEncoded(id, out.buf, 0, out.length, 0, -1);
    }
    if (view === Kind.Hash) {
      if (Buffer.isBuffer(reply)) to.replies.addValue(id, reply, 0, undefined, lifeMs);
      else to.replies.addOutcome(id, Outcome.NotFound);
      return;
    }
    // A range: rendered by the code that renders a cached value's, from the same encoding.
    const items = Array.isArray(reply) ? (reply.flat() as Buffer[]) : [];
    const json = this.#json.reset();
    valueJson(this.#view.reset(encodeTyped(view as Kind, items), 0), json);
    to.replies.addEncoded(id, json.buf, 0, json.length, 0, lifeMs);
  }

  /**
   * Redis refused (an error reply, written as Redis wrote it, so WRONGTYPE
   * and syntax errors match byte for byte), or could not be reached or did
   * not answer in time: the outcome every other read answers then.
   */
  #fail(waiter: number, err: Error, view: number): void {
    const to = this.#landed(waiter);
    if (to === undefined) return;
    const id = waiter % LINK_SPAN;
    const outcome = outcomeOf(err);
    if (view !== NOT_VIEW || outcome === Outcome.Unavailable) return to.replies.addOutcome(id, outcome);
    const out = this.#out.reset((to.meta & RESP3_FLAG) !== 0);
    out.error(err.message);
    to.replies.addEncoded(id, out.buf, 0, out.length, 0, -1);
  }
}
