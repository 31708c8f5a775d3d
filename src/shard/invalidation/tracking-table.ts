/**
 * Redis's tracking table, watched from shard 0 (one reader per proxy, not
 * one per shard): Redis keeps one table of the keys its clients read with
 * per-key tracking, capped by `tracking-table-max-keys`; past the cap it
 * evicts keys from it and invalidates them although nothing changed, so a
 * cache larger than the table quietly shrinks to it.
 *
 * - Each server's `tracking-table-max-keys` is read once (`CONFIG GET`),
 *   when the server is first seen; with TRACKING_MODE=default, a
 *   CACHE_CAPACITY above what the tables hold together is said once. An ACL
 *   that refuses CONFIG is said once too.
 * - Every `intervalMs` (5 s), `INFO stats` gives `tracking_total_keys`; the
 *   fullest server's fill is published (a cluster has one table per
 *   master), and a fill of 90% or more is said once, again only after it
 *   fell under 80%.
 *
 * Nothing here runs per request: two commands per server every 5 s.
 */
import type { Redis } from 'ioredis';
import type { Log } from '../../log.js';
import { Stat } from '../../metrics/shard-stats.js';
import type { TrackingMode } from '../../routing/backend-settings.js';

/** How often the fill is read. */
export const TABLE_POLL_MS = 5000;
/** The fill that is warned about, and the one it must fall under before it is warned about again. */
const NEARLY_FULL = 0.9;
const RELIEVED = 0.8;

export interface TrackingTableOptions {
  /** The servers whose table the cache depends on now: the data connection, or a cluster's masters. */
  servers: () => Redis[];
  mode: TrackingMode;
  /** CACHE_CAPACITY: keys the whole proxy may cache. */
  capacity: number;
  label: string;
  log: Log;
  /** Shard 0's stats: `TrackingKeys`, `TrackingTableMaxKeys` (-1 while unknown; a max of 0: no limit). */
  stats: Float64Array;
  intervalMs?: number;
}

/** Reads the table's size and fill in the background until closed. */
export class TrackingTable {
  readonly #o: TrackingTableOptions;
  /** `tracking-table-max-keys` per server (`host:port`), once read. */
  readonly #max = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;
  #refused = false;
  #warnedCapacity = false;
  #warnedFull = false;
  #polling = false;
  #soon: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: TrackingTableOptions) {
    this.#o = options;
    this.#timer = setInterval(() => void this.poll(), options.intervalMs ?? TABLE_POLL_MS).unref();
    void this.poll();
  }

  /** Stops polling. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    clearTimeout(this.#soon);
  }

  /** One look at every server (also called at start); resolves when published. */
  async poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      const servers = this.#o.servers().filter((s) => s.status === 'ready');
      let fullest: [keys: number, max: number, fill: number] | undefined;
      const maxes: number[] = [];
      for (const server of servers) {
        const max = await this.#maxKeys(server);
        maxes.push(max);
        const keys = (await trackedKeys(server)) ?? -1;
        const fill = max > 0 && keys > 0 ? keys / max : 0;
        if (fullest === undefined || fill > fullest[2]) fullest = [keys, max, fill];
      }
      // What the tables hold together: unknown (-1) if one is, unbounded (0) if one is.
      const room = maxes.some((m) => m < 0) ? -1 : maxes.includes(0) ? 0 : maxes.reduce((a, b) => a + b, 0);
      if (fullest !== undefined) this.#publish(fullest[0], fullest[1], room, servers.length);
      // Until a first figure, Redis is looked at again soon, not in 5 s: no server was ready yet.
      else if (!this.#closed && this.#o.stats[Stat.TrackingTableMaxKeys] === -1 && this.#o.stats[Stat.TrackingKeys] === -1)
        this.#soon = setTimeout(() => void this.poll(), 100).unref();
    } finally {
      this.#polling = false;
    }
  }

  /** The server's `tracking-table-max-keys`: read once; -1 when unknown (refused, or failed for now). */
  async #maxKeys(server: Redis): Promise<number> {
    const where = `${server.options.host}:${server.options.port}`;
    const known = this.#max.get(where);
    if (known !== undefined) return known;
    try {
      const reply = (await server.call('CONFIG', 'GET', 'tracking-table-max-keys')) as string[];
      const max = Number(reply[1]);
      this.#max.set(where, max);
      return max;
    } catch (err) {
      if ((err as Error).name !== 'ReplyError') return -1;
      this.#max.set(where, -1);
      if (!this.#refused) {
        this.#refused = true;
        this.#o.log.warn(
          `${this.#o.label}: Redis refused CONFIG GET tracking-table-max-keys (${(err as Error).message.split('\n', 1)[0]}), so CACHE_CAPACITY cannot be checked against its tracking table; allow +config|get, or check tracking-table-max-keys by hand (docs/coherence.md)`,
        );
      }
      return -1;
    }
  }

  #publish(keys: number, max: number, room: number, servers: number): void {
    const o = this.#o;
    o.stats[Stat.TrackingKeys] = keys;
    o.stats[Stat.TrackingTableMaxKeys] = max;
    if (o.mode === 'default' && !this.#warnedCapacity && room > 0 && o.capacity > room) {
      this.#warnedCapacity = true;
      const tables =
        servers === 1
          ? `Redis's tracking-table-max-keys (${room})`
          : `the tracking tables of ${servers} masters (tracking-table-max-keys ${room} together)`;
      o.log.warn(
        `${o.label}: CACHE_CAPACITY (${o.capacity}) is more keys than ${tables} hold: past the table Redis evicts keys from it and invalidates them unchanged, so the cache holds at most about that many; raise tracking-table-max-keys or set TRACKING_MODE=bcast (docs/coherence.md)`,
      );
    }
    if (keys < 0 || max <= 0) return;
    const fill = keys / max;
    if (!this.#warnedFull && fill >= NEARLY_FULL) {
      this.#warnedFull = true;
      o.log.warn(
        `${o.label}: Redis's tracking table is ${Math.round(fill * 100)}% full (${keys} of tracking-table-max-keys ${max}): once full, Redis invalidates tracked keys unchanged and caches shrink; raise tracking-table-max-keys or set TRACKING_MODE=bcast (docs/coherence.md)`,
      );
    } else if (fill < RELIEVED) {
      this.#warnedFull = false;
    }
  }
}

/** `tracking_total_keys` from INFO stats, or undefined when INFO fails (an ACL without it: the tracking link says so). */
async function trackedKeys(server: Redis): Promise<number | undefined> {
  try {
    const m = /tracking_total_keys:(\d+)/.exec(await server.info('stats'));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}
