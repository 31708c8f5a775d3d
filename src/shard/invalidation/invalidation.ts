/**
 * Coherence through Redis server-assisted client-side caching, for a shard
 * that reads from one server: a standalone Redis (REDIS_URL), or the master
 * the sentinels name (a failover closes both connections: a lost link, like
 * any other). One `TrackingLink` (the shard's data connection, tracked
 * toward a subscriber on the same server) under the `Coherence` rule: the
 * cache keeps answers only while the link is armed. A cluster needs one
 * link per node: see `cluster-tracking.ts`.
 *
 * Both connections are checked with a PING when idle (`connectRedis`'s
 * `pingMs`), so a link that died without closing is treated as closed: the
 * subscriber here, the data connection by whoever opened it.
 */
import type { Redis, RedisOptions as IORedisOptions } from 'ioredis';
import { Coherence, type CoherenceOptions } from './coherence.js';
import type { RedisConnection } from '../redis/redis.js';
import { TrackingLink } from './tracking-link.js';
import type { TrackingSpec } from '../../routing/backend-settings.js';

export type { InvalidationTarget } from './coherence.js';
export { INVALIDATE_CHANNEL } from './tracking-link.js';

export interface InvalidationOptions extends CoherenceOptions {
  /** REDIS_URL: the server, or (with `server`) the credentials for it. */
  url: string;
  /** The server's ioredis options when it is not REDIS_URL's (the sentinels). */
  server?: IORedisOptions;
  /** How log lines name the server; default: the URL without its password. */
  where?: string;
  timeoutMs: number;
  /** The shard's data connection, whose reads Redis tracks. */
  data: Redis;
  /** Interval of the subscriber's idle-link check (`connectRedis`); default `PING_MS`. */
  pingMs?: number;
  /** TRACKING_MODE and KEY_PREFIX; default: per-key tracking. */
  tracking?: TrackingSpec;
}

/** One shard's tracking of its one server. */
export class Invalidation extends Coherence {
  readonly #link: TrackingLink;

  constructor(options: InvalidationOptions) {
    super(options);
    this.#link = new TrackingLink({
      data: options.data,
      url: options.url,
      ...(options.server ? { server: options.server } : {}),
      ...(options.where ? { where: options.where } : {}),
      timeoutMs: options.timeoutMs,
      label: options.label,
      log: options.log,
      ...(options.pingMs ? { pingMs: options.pingMs } : {}),
      ...(options.tracking ? { tracking: options.tracking } : {}),
      events: {
        armed: () => this.update(),
        lost: () => this.lost(),
        message: (keys) => this.message(keys),
        refused: (_link, err) => this.refuse(err),
      },
    });
  }

  /** The subscriber connection (exposed for tests); opened once the data connection was first ready. */
  get subscriber(): RedisConnection {
    return this.#link.subscriber!;
  }

  /** Closes the subscriber; the data connection is the caller's. */
  close(): void {
    this.#link.close();
  }

  protected allArmed(): boolean {
    return this.#link.armed;
  }

  protected closeLinks(): void {
    this.#link.close();
  }
}
