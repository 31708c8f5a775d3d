/**
 * Client tracking of one data connection: Redis remembers the keys that
 * connection reads and reports changes to them on a second connection of
 * ours, the subscriber, which must be on the same server (a REDIRECT names
 * a client id, and ids are per server).
 *
 * The data connection runs `CLIENT TRACKING ON REDIRECT <id>` (with
 * TRACKING_MODE=bcast, followed by `BCAST` and the prefix: tracking-mode.ts),
 * where `<id>` is the subscriber's `CLIENT ID`; the subscriber (RESP2, since ioredis drops
 * RESP3 invalidation pushes) listens on `__redis__:invalidate`. Before
 * arming, both connections' `run_id` must match: behind sentinels, a DNS
 * name or a load balancer, the two can land on different servers for a
 * while, and a redirect to an id on the wrong server is refused, or worse,
 * silently reaches somebody else's connection. On a mismatch the subscriber
 * reconnects and tries again.
 *
 * The link reports, and decides nothing: `armed` once tracking is
 * acknowledged toward the current subscriber (reads sent from then on are
 * tracked), `lost` when either connection closes (changes may go unreported
 * from then on), each invalidation message, and `refused` when the server
 * will not track at all (Redis before 6, an ACL without `client|tracking`).
 * `Coherence` turns these into caching decisions. The subscriber is opened
 * when the data connection first becomes ready, so a connection nothing
 * reads from (a cluster replica) costs no subscriber.
 */
import type { Redis } from 'ioredis';
import { connectRedis, PING_MS, type RedisConnection, type RedisOptions } from '../redis/redis.js';
import { trackingOn } from './tracking-mode.js';
import type { TrackingSpec } from '../../routing/backend-settings.js';

/** The channel Redis publishes invalidations on for RESP2 redirect clients. */
export const INVALIDATE_CHANNEL = '__redis__:invalidate';

/** What a link reports to its owner. */
export interface LinkEvents {
  armed(link: TrackingLink): void;
  lost(link: TrackingLink): void;
  /** The keys named by one invalidation message, or null for all of them (FLUSHALL, FLUSHDB). */
  message(keys: Buffer[] | null): void;
  refused(link: TrackingLink, err: Error): void;
}

/** The subscriber connection is opened as the data connection was (its server, credentials, log naming). */
export interface TrackingLinkOptions extends Pick<RedisOptions, 'url' | 'server' | 'where' | 'timeoutMs' | 'label' | 'log'> {
  /** The data connection whose reads are tracked. */
  data: Redis;
  /** Interval of the subscriber's idle-link check (`connectRedis`); default `PING_MS`. */
  pingMs?: number;
  /** TRACKING_MODE and KEY_PREFIX; default: per-key tracking. */
  tracking?: TrackingSpec;
  events: LinkEvents;
}

/** One data connection's tracking toward a subscriber of ours on the same server. */
export class TrackingLink {
  /** Whether tracking is acknowledged on the data connection's current socket toward the current subscriber. */
  armed = false;
  /** The subscriber; undefined until the data connection was first ready. */
  subscriber: RedisConnection | undefined;
  readonly data: Redis;
  readonly #o: TrackingLinkOptions;
  #subscriberId: number | undefined;
  /** The subscriber's server, or undefined when INFO is not allowed (then the check is skipped). */
  #runId: string | undefined;
  #done = false;
  #warnedNoInfo = false;
  /** The two connections were found on different servers, and the link has not armed since (said once). */
  #crossed = false;
  /** The data connection's socket on which tracking was last turned on: re-arming there turns it off first. */
  #trackedStream: unknown;
  readonly #onReady = (): void => this.#dataReady();
  readonly #onClose = (): void => this.#lost();

  constructor(options: TrackingLinkOptions) {
    this.#o = options;
    this.data = options.data;
    this.data.on('ready', this.#onReady);
    this.data.on('close', this.#onClose);
    if (this.data.status === 'ready') this.#dataReady();
  }

  /** Closes the subscriber and stops listening to the data connection (which is the caller's). */
  close(): void {
    this.#done = true;
    this.armed = false;
    this.data.off('ready', this.#onReady);
    this.data.off('close', this.#onClose);
    this.subscriber?.close();
  }

  #dataReady(): void {
    if (this.#done) return;
    if (this.subscriber === undefined) this.#openSubscriber();
    else this.#arm();
  }

  #openSubscriber(): void {
    const o = this.#o;
    const name = `${this.data.options.connectionName ?? 'shardcache'}:invalidate`;
    this.subscriber = connectRedis(
      {
        url: o.url,
        ...(o.server ? { server: o.server } : {}),
        ...(o.where ? { where: o.where } : {}),
        timeoutMs: o.timeoutMs,
        label: `${o.label} invalidation`,
        log: o.log,
        pingMs: o.pingMs ?? PING_MS,
      },
      { protocol: 2, autoResubscribe: false, connectionName: name },
    );
    const sub = this.subscriber.redis;
    sub.on('ready', () => void this.#subscribe(sub));
    sub.on('close', () => {
      this.#subscriberId = undefined;
      this.#lost();
    });
    sub.on('messageBuffer', (_channel: Buffer, message: Buffer[] | null) => o.events.message(message));
  }

  async #subscribe(sub: Redis): Promise<void> {
    try {
      const runId = await this.#serverId(sub);
      // CLIENT is not allowed once subscribed, so the id comes first.
      const id = Number(await sub.client('ID'));
      await sub.subscribe(INVALIDATE_CHANNEL);
      this.#runId = runId;
      this.#subscriberId = id;
      this.#arm();
    } catch (err) {
      // A connection failure is retried on the next `ready`; a refusal is for good.
      if ((err as Error).name === 'ReplyError') this.#refuse(err as Error);
    }
  }

  /** The server's run_id (INFO server), or undefined when an ACL forbids INFO. */
  async #serverId(redis: Redis): Promise<string | undefined> {
    try {
      return /run_id:(\w+)/.exec(await redis.info('server'))?.[1];
    } catch (err) {
      if ((err as Error).name !== 'ReplyError') throw err;
      if (!this.#warnedNoInfo) {
        this.#warnedNoInfo = true;
        this.#o.log.warn(
          `${this.#o.label}: INFO is not allowed (${(err as Error).message.split('\n', 1)[0]}), so the tracking link cannot check that its two connections reached the same server; allow INFO when REDIS_URL names an address that can move (DNS, a load balancer)`,
        );
      }
      return undefined;
    }
  }

  #arm(): void {
    const id = this.#subscriberId;
    const runId = this.#runId;
    const data = this.data;
    if (this.#done || this.armed || id === undefined || data.status !== 'ready') return;
    const stream = data.stream;
    // Anything that changed meanwhile (either side reconnected) makes this attempt moot; its own event re-arms.
    const current = (): boolean => !this.#done && id === this.#subscriberId && data.stream === stream && data.status === 'ready';
    const check = runId === undefined ? Promise.resolve<string | undefined>(undefined) : this.#serverId(data);
    check
      .then((dataRunId) => {
        if (!current()) return;
        if (runId !== undefined && dataRunId !== undefined && dataRunId !== runId) {
          this.#resubscribe(
            `the data connection and the invalidation subscriber reached different servers (run_id ${dataRunId} and ${runId})`,
          );
          return;
        }
        // On a socket already tracking, BCAST refuses to be turned on again
        // (its prefix would overlap itself): OFF first, pipelined with ON.
        const off = data.stream === this.#trackedStream ? data.call('CLIENT', 'TRACKING', 'OFF') : undefined;
        const on = data.call('CLIENT', ...trackingOn(this.#o.tracking, id));
        return Promise.all([off, on]).then(() => {
          this.#trackedStream = stream;
          if (!current() || this.armed) return;
          this.armed = true;
          this.#crossed = false;
          this.#o.events.armed(this);
        });
      })
      .catch((err: Error) => {
        if (err.name !== 'ReplyError') return;
        // The subscriber went away meanwhile, or (INFO not allowed) is on another server.
        if (/redirect to does not exist/i.test(err.message))
          this.#resubscribe(`the data connection's server does not know the subscriber's client id ${id}`);
        else this.#refuse(err);
      });
  }

  /**
   * Sends the subscriber to connect again (behind sentinels or a moving
   * address, to where the data connection is), a second later so that a
   * mismatch that lasts costs one attempt a second; said once until armed.
   */
  #resubscribe(why: string): void {
    if (!this.#crossed) this.#o.log.warn(`${this.#o.label}: ${why}; reconnecting the subscriber until both reach the same server`);
    this.#crossed = true;
    const sub = this.subscriber!;
    setTimeout(() => {
      if (!this.#done && !this.armed) sub.redis.disconnect(true);
    }, PING_MS).unref();
  }

  #lost(): void {
    if (this.#done) return;
    this.armed = false;
    this.#o.events.lost(this);
  }

  #refuse(err: Error): void {
    if (this.#done) return;
    this.#o.events.refused(this, err);
  }
}
