/**
 * The rule that keeps a shard's cache coherent, over however many tracking
 * links it needs (one toward a standalone or sentinel-managed Redis, one per
 * node of a cluster): the cache may keep answers only while every link it
 * depends on is armed.
 *
 * - Until all are armed, and whenever one is lost, nothing new is cached,
 *   and what the cache holds is forgotten (with `keepWhileDown`, when
 *   tracking is back instead: STALE_IF_ERROR_MS asked for old values over
 *   none while Redis fails over).
 * - The moment the last link arms, in-flight reads are poisoned before
 *   caching resumes: a read sent on a connection before its `CLIENT
 *   TRACKING` is not tracked, and its reply can even be handled after the
 *   acknowledgement (both replies in one socket read, their promise chains of
 *   different lengths). A read sent after it is tracked; poisoning it too
 *   costs one uncached answer.
 * - An owner that learns the link set no longer covers what was cached (a
 *   cluster slot moved to another master) calls `flush`.
 *
 * Nothing here runs per request. What it does is counted in the shard's
 * stats array (keys named, flushes, re-arms, whether tracking is armed now).
 */
import { EventEmitter } from 'node:events';
import type { Log } from '../../log.js';
import { newShardStats, Stat } from '../../metrics/shard-stats.js';

/** What invalidations act on: a `Shard`. */
export interface InvalidationTarget {
  caching: boolean;
  invalidate(key: string): void;
  clear(): void;
}

/** The shard-side ends every tracking owner shares. */
export interface CoherenceOptions {
  target: InvalidationTarget;
  /** Prefix for log lines, e.g. `shard 2`. */
  label: string;
  log: Log;
  /** Keep the entries while a link is down and flush them only when tracking re-arms (STALE_IF_ERROR_MS is set). */
  keepWhileDown?: boolean;
  /** The shard's stats array (`newShardStats`); default: a private one. */
  stats?: Float64Array;
}

/**
 * A shard's caching gate over its tracking links. Emits `settled` once
 * tracking is first armed, or has been given up for TTL-only caching.
 */
export abstract class Coherence extends EventEmitter {
  /** `arming` until every link is armed; `armed`; `off` after falling back to TTL-only caching. */
  state: 'arming' | 'armed' | 'off' = 'arming';
  /** Times tracking became armed (the first time and after each loss). */
  arms = 0;
  /** Invalidation messages received (a FLUSHALL counts as one). */
  messages = 0;
  /**
   * Where the figures go: `InvalidatedKeys`, `InvalidationFlushes`,
   * `InvalidationMessages`, `TrackingRearms` carry on from a replaced worker's; `TrackingArmed` is
   * this gate's state.
   */
  readonly stats: Float64Array;
  protected readonly c: CoherenceOptions;

  constructor(options: CoherenceOptions) {
    super();
    this.c = options;
    this.stats = options.stats ?? newShardStats();
    this.stats[Stat.TrackingArmed] = 0;
    options.target.caching = false;
  }

  /** Whether the gate has reached a steady state (armed, or TTL-only). */
  get settled(): boolean {
    return this.state !== 'arming' || this.arms > 0;
  }

  /** Whether every link the cache depends on is armed now. */
  protected abstract allArmed(): boolean;

  /** Closes the links' subscribers for good (after a refusal, or at shutdown). */
  protected abstract closeLinks(): void;

  /** Re-evaluates the gate after a link armed or the link set changed. */
  protected update(): void {
    if (this.state === 'off') return;
    if (!this.allArmed()) {
      if (this.state === 'armed') this.lost();
      return;
    }
    if (this.state === 'armed') return;
    this.state = 'armed';
    this.arms++;
    this.stats[Stat.TrackingArmed] = 1;
    if (this.arms > 1) this.stats[Stat.TrackingRearms]!++;
    // Poisons what is in flight (see above), and drops what was kept while down.
    this.c.target.clear();
    this.c.target.caching = true;
    if (this.arms > 1) this.c.log.info(`${this.c.label}: invalidation tracking re-armed (cache was flushed while the link was down)`);
    this.emit('settled');
  }

  /**
   * A link dropped: changes may go unreported from now until it is armed
   * again, so cache nothing new, and forget everything now (or, with
   * `keepWhileDown`, as soon as tracking is back).
   */
  protected lost(): void {
    if (this.state === 'off') return;
    this.state = 'arming';
    this.stats[Stat.TrackingArmed] = 0;
    const target = this.c.target;
    target.caching = false;
    // Kept while down are flushed when tracking is back: `update` clears on every arm.
    if (!this.c.keepWhileDown) target.clear();
  }

  /** Forgets everything now, whatever the links' state: what was cached is no longer covered by them. */
  protected flush(): void {
    this.c.target.clear();
  }

  /** A RESP2 invalidation message: an array of keys, or null for "everything". */
  protected message(message: Buffer[] | null): void {
    this.messages++;
    this.stats[Stat.InvalidationMessages]!++;
    const target = this.c.target;
    if (message === null) {
      this.stats[Stat.InvalidationFlushes]!++;
      target.clear();
      return;
    }
    this.stats[Stat.InvalidatedKeys]! += message.length;
    // Keys are binary: the cache holds them as latin1 strings, one char per byte.
    for (let i = 0; i < message.length; i++) target.invalidate(message[i]!.latin1Slice(0, message[i]!.length));
  }

  /** The server will not track: cache with the TTL only, for good. */
  protected refuse(err: Error): void {
    if (this.state === 'off') return;
    this.state = 'off';
    this.stats[Stat.TrackingArmed] = 0;
    this.closeLinks();
    this.c.target.caching = true;
    this.c.log.warn(
      `${this.c.label}: Redis refused client tracking (${err.message.split('\n', 1)[0]}); caching with INVALIDATION=ttl, so values may be stale for up to CACHE_TTL_MS`,
    );
    this.emit('settled');
  }
}
