/**
 * A shard's connection to Redis: built to fail fast rather than queue.
 * While Redis is away every command fails at once (no offline queue; a read
 * is sent again only by the shard, after a dropped connection to a Redis
 * that is still there: `resend.ts`), a slow one (a GET, or an MGET as a whole) fails
 * after `timeoutMs`, and the client reconnects in the background with capped
 * backoff. With `pingMs`,
 * a connection that has received nothing for that long is sent a PING, and
 * one left unanswered for that long again is closed and reconnected: a link
 * that died without a FIN is found within 3 × `pingMs`, at no cost per
 * command.
 */
import { Redis, type RedisOptions as IORedisOptions } from 'ioredis';
import { Outcome } from '../../hop/vocabulary.js';
import type { Log } from '../../log.js';
import { redactUrl } from '../../redact.js';
import type { Fetch, FetchMany } from '../batch-fetch.js';

/** How to reach Redis and whom to tell about the connection's state. */
export interface RedisOptions {
  /** The server, with credentials; unless `server` is given, then only named in the log lines. */
  url: string;
  /** The server's ioredis options (a cluster node, or sentinels), credentials included; default: `url`. */
  server?: IORedisOptions;
  /** How the log lines name the server; default: `url` without its password. */
  where?: string;
  timeoutMs: number;
  /** Prefix for the one-line state messages, e.g. `shard 2`. */
  label: string;
  log: Log;
  /** Told each time the connection becomes ready (`true`) or is lost (`false`); feeds /readyz. */
  onUp?: (up: boolean) => void;
  /** Check the link every this many milliseconds (see above); absent: never. */
  pingMs?: number;
}

/** The interval of the idle-link check the shards use on both their connections. */
export const PING_MS = 1000;

/** An open (or reconnecting) connection and the way to close it for good. */
export interface RedisConnection {
  redis: Redis;
  /** Disconnects for good, without reporting it as a lost connection. */
  close(): void;
}

/**
 * Opens the connection and reports each change of its state in one line.
 * `overrides` adjusts the ioredis options (the invalidation subscriber
 * speaks RESP2 under its own name).
 */
export function connectRedis(options: RedisOptions, overrides: IORedisOptions = {}): RedisConnection {
  const settings: IORedisOptions = {
    commandTimeout: options.timeoutMs,
    connectTimeout: Math.max(options.timeoutMs, 1000),
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    retryStrategy: reconnectDelay,
    connectionName: `shardcache:${options.label.replace(/\s+/g, '-')}`,
    disableClientInfo: true,
    ...overrides,
  };
  const redis = options.server === undefined ? new Redis(options.url, settings) : new Redis({ ...options.server, ...settings });
  let state: 'connecting' | 'up' | 'down' | 'closed' = 'connecting';
  const where = options.where ?? redactUrl(options.url);
  const onUp = options.onUp ?? ((): void => {});
  redis.on('ready', () => {
    if (state === 'closed') return;
    if (state !== 'up') options.log.info(`${options.label}: redis ${state === 'down' ? 'reconnected' : 'connected'} (${where})`);
    state = 'up';
    onUp(true);
  });
  redis.on('error', (err: Error) => {
    if (state === 'down' || state === 'closed') return;
    options.log.warn(
      `${options.label}: redis ${state === 'up' ? 'connection lost' : 'unreachable'} at ${where} (${describe(err)}); retrying`,
    );
    state = 'down';
    onUp(false);
  });
  redis.on('close', () => {
    if (state === 'up') {
      options.log.warn(`${options.label}: redis connection closed (${where}); reconnecting`);
      state = 'down';
      onUp(false);
    }
  });
  const timer = options.pingMs === undefined ? undefined : watchLink(redis, options.label, options.log, options.pingMs);
  return {
    redis,
    close() {
      state = 'closed';
      clearInterval(timer);
      redis.disconnect();
    },
  };
}

/**
 * A connection that has read nothing for `pingMs` is sent a PING; a PING
 * still unanswered `pingMs` later means the link is dead, and the socket is
 * destroyed and reopened, which its owners see as any other close (the
 * invalidation link flushes and re-arms). The socket's byte count is looked
 * at twice per `pingMs`, which bounds how late a dead link is found: the
 * last byte, at most half an interval to notice it, an interval idle, an
 * interval for the PING: 2.5 × `pingMs`. That look is all it costs a busy
 * connection. Also used on the connections a cluster client opens to its
 * nodes.
 */
export function watchLink(redis: Redis, label: string, log: Log, pingMs: number): NodeJS.Timeout {
  let socket: unknown;
  let bytesRead = 0;
  /** When the byte count last changed (as of the look that saw it), or the PING went out. */
  let since = 0;
  let outstanding = false;
  const pong = (): void => {
    outstanding = false;
  };
  return setInterval(() => {
    const now = performance.now();
    const stream = redis.status === 'ready' ? redis.stream : undefined;
    if (stream !== socket) {
      // Reconnected (or down) since the last look: a PING sent on the old socket says nothing of this one.
      socket = stream;
      bytesRead = stream?.bytesRead ?? 0;
      since = now;
      outstanding = false;
      return;
    }
    if (stream === undefined) return;
    const read = stream.bytesRead;
    if (outstanding) {
      // A PING that failed (timed out) leaves the flag up too.
      if (now - since < pingMs - 1) return;
      outstanding = false;
      log.warn(`${label}: redis connection silent (PING unanswered for ${pingMs} ms); reconnecting`);
      // Destroyed, not ended: a FIN nobody acknowledges would keep the
      // socket (and the 'close' its owners wait for) open for minutes.
      stream.destroy();
      return;
    }
    if (read !== bytesRead) {
      bytesRead = read;
      since = now;
    } else if (now - since >= pingMs - 1) {
      outstanding = true;
      since = now;
      redis.ping().then(pong, () => undefined);
    }
  }, pingMs / 2).unref();
}

/**
 * Milliseconds before reconnect attempt `attempt` (1, 2, …; ioredis counts
 * again from 1 after each ready): the first at once, since one dropped
 * connection of a healthy Redis is back in about a millisecond and reads
 * wait for it (`resend.ts`); then 100 ms doubling to 1 s, so a Redis that
 * returns is used again within about a second and one that stays away costs
 * one attempt a second.
 */
export function reconnectDelay(attempt: number): number {
  return attempt <= 1 ? 0 : Math.min(50 * 2 ** Math.min(attempt, 5), 1000);
}

/** A `Fetch` that reads with GET and maps failures to outcomes. */
export function redisFetch(redis: Redis): Fetch {
  return (key) => redis.getBuffer(key).then(valueOrNotFound, outcomeOf);
}

/** A GET's reply as a fetch result. */
export function valueOrNotFound(value: Buffer | null): Buffer | Outcome {
  return value === null ? Outcome.NotFound : value;
}

/**
 * A `FetchMany` that reads with one MGET; a failure (an error reply, the
 * command timeout, no connection) is one outcome for all its keys.
 */
export function redisFetchMany(redis: Redis): FetchMany {
  return (keys) => redis.mgetBuffer(keys).catch(outcomeOf);
}

/**
 * Error replies that mean "not now" rather than "no": a server still loading
 * its data, a cluster without a majority or with a slot in motion, a replica
 * whose master is gone. They are answered like an unreachable Redis (503,
 * retry), as a failover must be.
 */
const TRANSIENT = /^(LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|MOVED|ASK) /;

/**
 * Redis's own error replies mean Redis is up and refused this key (except
 * the transient ones above); anything else (timeouts, closed or unwritable
 * connections) means Redis is unavailable.
 */
export function outcomeOf(err: Error): Outcome {
  if (err.name !== 'ReplyError' || TRANSIENT.test(err.message)) return Outcome.Unavailable;
  return err.message.startsWith('WRONGTYPE') ? Outcome.WrongType : Outcome.RedisError;
}

function describe(err: Error & { code?: string }): string {
  return err.code ?? err.message.split('\n', 1)[0]!;
}
