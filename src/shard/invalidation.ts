/**
 * Coherence through Redis server-assisted client-side caching: Redis
 * remembers which keys a shard's data connection has read and, when one of
 * them changes, says so on a second connection of the same shard.
 *
 * The data connection runs `CLIENT TRACKING ON REDIRECT <id>`, where `<id>`
 * is the subscriber connection's `CLIENT ID`; the subscriber (RESP2, since
 * ioredis 6 drops RESP3 invalidation pushes) listens on
 * `__redis__:invalidate`. Each message names changed keys, or is null when
 * the whole keyspace went (FLUSHALL, FLUSHDB).
 *
 * The cache may only keep answers while this link is whole. Until tracking
 * is armed, and whenever either connection drops, the shard caches nothing
 * and forgets what it had: a change made while a connection was down would
 * never be reported. Once both connections are back, tracking is armed
 * again toward the subscriber's new id. Both connections are checked with a
 * PING when idle (`connectRedis`'s `pingMs`), so a link that died without
 * closing is treated as closed: the subscriber here, the data connection by
 * whoever opened it.
 *
 * Nothing here runs per request: only when a message or a connection event
 * arrives. What it does is counted in the shard's stats array (keys named,
 * flushes, re-arms, and whether tracking is armed now).
 */
import type { Log } from '../log.js';
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { newShardStats, Stat } from '../metrics/shard-stats.js';
import { connectRedis, PING_MS, type RedisConnection } from './redis.js';

/** The channel Redis publishes invalidations on for RESP2 redirect clients. */
export const INVALIDATE_CHANNEL = '__redis__:invalidate';

/** What invalidations act on: a `Shard`. */
export interface InvalidationTarget {
  caching: boolean;
  invalidate(key: string): void;
  clear(): void;
}

export interface InvalidationOptions {
  url: string;
  timeoutMs: number;
  /** The shard's data connection, whose reads Redis tracks. */
  data: Redis;
  target: InvalidationTarget;
  /** Prefix for log lines, e.g. `shard 2`. */
  label: string;
  log: Log;
  /** Interval of the subscriber's idle-link check (`connectRedis`); default `PING_MS`. */
  pingMs?: number;
  /**
   * Keep the entries while the link is down and flush them only when
   * tracking re-arms (STALE_IF_ERROR_MS is set: the operator chose to serve
   * old values while Redis fails over having nothing to serve). Otherwise
   * a lost link flushes at once.
   */
  keepWhileDown?: boolean;
  /** The shard's stats array, where the link's figures are counted (`newShardStats`); default: a private one. */
  stats?: Float64Array;
}

/**
 * One shard's tracking link. Emits `settled` once tracking is first armed or
 * has been given up for TTL-only caching (the server refused it).
 */
export class Invalidation extends EventEmitter {
  /** `arming` until tracking is on; `armed`; `off` after falling back to TTL-only caching. */
  state: 'arming' | 'armed' | 'off' = 'arming';
  /** Times tracking was armed (the first time and after each reconnection). */
  arms = 0;
  /** The link was lost with `keepWhileDown`: the entries kept meanwhile go when tracking is back. */
  #flushOnArm = false;
  /** Invalidation messages received (a FLUSHALL counts as one). */
  messages = 0;
  /** The subscriber connection (exposed for tests). */
  readonly subscriber: RedisConnection;
  /**
   * Where the link's figures go: `InvalidatedKeys`, `InvalidationFlushes`,
   * `TrackingRearms` carry on from a replaced worker's; `TrackingArmed` is
   * this link's state.
   */
  readonly stats: Float64Array;

  readonly #o: InvalidationOptions;
  #subscriberId: number | undefined;

  constructor(options: InvalidationOptions) {
    super();
    this.#o = options;
    this.stats = options.stats ?? newShardStats();
    this.stats[Stat.TrackingArmed] = 0;
    options.target.caching = false;
    const name = `${options.data.options.connectionName ?? 'shardcache'}:invalidate`;
    this.subscriber = connectRedis(
      { url: options.url, timeoutMs: options.timeoutMs, label: `${options.label} invalidation`, log: options.log, pingMs: options.pingMs ?? PING_MS },
      { protocol: 2, autoResubscribe: false, connectionName: name },
    );
    const sub = this.subscriber.redis;
    sub.on('ready', () => this.#subscribe());
    sub.on('close', () => this.#lost(true));
    sub.on('messageBuffer', (_channel: Buffer, message: Buffer[] | null) => this.#message(message));
    options.data.on('ready', () => this.#arm());
    options.data.on('close', () => this.#lost(false));
  }

  /** Whether the link has reached a steady state (armed, or TTL-only). */
  get settled(): boolean {
    return this.state !== 'arming' || this.arms > 0;
  }

  /** Closes the subscriber; the data connection is the caller's. */
  close(): void {
    this.subscriber.close();
  }

  /** A RESP2 invalidation message: an array of keys, or null for "everything". */
  #message(message: Buffer[] | null): void {
    this.messages++;
    const target = this.#o.target;
    if (message === null) {
      this.stats[Stat.InvalidationFlushes]!++;
      target.clear();
      return;
    }
    this.stats[Stat.InvalidatedKeys]! += message.length;
    // Keys are binary: the cache holds them as latin1 strings, one char per byte.
    for (let i = 0; i < message.length; i++) target.invalidate(message[i]!.latin1Slice(0, message[i]!.length));
  }

  async #subscribe(): Promise<void> {
    if (this.state === 'off') return;
    const sub = this.subscriber.redis;
    try {
      // CLIENT is not allowed once subscribed, so the id comes first.
      const id = Number(await sub.client('ID'));
      await sub.subscribe(INVALIDATE_CHANNEL);
      this.#subscriberId = id;
      this.#arm();
    } catch (err) {
      // A connection failure is retried on the next `ready`; a refusal is for good.
      if ((err as Error).name === 'ReplyError') this.#fallBack(err as Error);
    }
  }

  #arm(): void {
    const id = this.#subscriberId;
    const data = this.#o.data;
    if (this.state === 'off' || id === undefined || data.status !== 'ready') return;
    data.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(id)).then(
      () => {
        // A reply for a subscriber that has since been replaced arms nothing.
        if (this.state === 'off' || id !== this.#subscriberId || data.status !== 'ready') return;
        if (this.state === 'armed') return;
        this.state = 'armed';
        this.arms++;
        this.stats[Stat.TrackingArmed] = 1;
        if (this.arms > 1) this.stats[Stat.TrackingRearms]!++;
        if (this.#flushOnArm) {
          this.#flushOnArm = false;
          this.#o.target.clear();
        }
        this.#o.target.caching = true;
        if (this.arms > 1) this.#o.log.info(`${this.#o.label}: invalidation tracking re-armed (cache was flushed while the link was down)`);
        this.emit('settled');
      },
      (err: Error) => {
        if (err.name === 'ReplyError') this.#fallBack(err);
      },
    );
  }

  /**
   * Either connection dropped: changes may go unreported from now until
   * tracking is armed again, so cache nothing new, and forget everything
   * now (or, with `keepWhileDown`, as soon as tracking is back).
   */
  #lost(subscriber: boolean): void {
    if (this.state === 'off') return;
    if (subscriber) this.#subscriberId = undefined;
    this.state = 'arming';
    this.stats[Stat.TrackingArmed] = 0;
    const target = this.#o.target;
    target.caching = false;
    if (this.#o.keepWhileDown) this.#flushOnArm = true;
    else target.clear();
  }

  #fallBack(err: Error): void {
    if (this.state === 'off') return;
    this.state = 'off';
    this.stats[Stat.TrackingArmed] = 0;
    this.subscriber.close();
    this.#o.target.caching = true;
    this.#o.log.warn(`${this.#o.label}: Redis refused client tracking (${err.message.split('\n', 1)[0]}); caching with INVALIDATION=ttl, so values may be stale for up to CACHE_TTL_MS`);
    this.emit('settled');
  }
}
