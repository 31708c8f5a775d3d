/**
 * Coherence on a Redis Cluster. A key's invalidation comes from the node
 * that served it, so each node connection the cluster client reads from
 * gets its own `TrackingLink` (tracking toward a subscriber on that node),
 * and the `Coherence` rule spans them all: the shard caches only while the
 * link of every master (and of any other node it has read from) is armed.
 *
 * - A node connection that appears (`+node`: start-up, a new node, a
 *   reconnection after the old connection ended) gets a link; one that ends
 *   (`-node`) loses it. `connectCluster` connects masters at once rather
 *   than at their first read, so they are armed before they are needed.
 * - A lost node connection or subscriber is a lost link: flush, re-arm.
 * - After every topology refresh (`refresh`: the periodic one, and the one a
 *   MOVED triggers), the master of each of the 16,384 slots is compared with
 *   the last refresh's: if any slot changed hands (failover, resharding),
 *   the keys cached from its old master are tracked by a node that no longer
 *   sees their writes, so the shard is flushed. (Meanwhile, the old master
 *   keeps invalidating: a demoted master still applies, and reports, the
 *   writes it replicates, and MIGRATE deletes, and reports, each key it
 *   moves. A cached absence, NEGATIVE_TTL_MS, has no such cover: it can
 *   outlive a move by up to `SLOTS_REFRESH_MS`.)
 */
import type { Cluster, Redis } from 'ioredis';
import { Stat } from '../../metrics/shard-stats.js';
import { Coherence, type CoherenceOptions } from './coherence.js';
import { credentialsOf } from '../redis/endpoints.js';
import { TrackingLink, type LinkEvents } from './tracking-link.js';
import type { TrackingSpec } from '../../routing/backend-settings.js';

export interface ClusterTrackingOptions extends CoherenceOptions {
  cluster: Cluster;
  /** REDIS_URL, for the subscribers' user, password and TLS. */
  url: string;
  timeoutMs: number;
  /** Interval of the subscribers' idle-link check; default `PING_MS`. */
  pingMs?: number;
  /** TRACKING_MODE and KEY_PREFIX, the same on every node; default: per-key tracking. */
  tracking?: TrackingSpec;
}

/** One shard's tracking of every cluster node it reads from. */
export class ClusterTracking extends Coherence {
  readonly #cluster: Cluster;
  readonly #o: ClusterTrackingOptions;
  readonly #links = new Map<Redis, TrackingLink>();
  /** Master address of each slot at the last refresh; empty before the first. */
  #owners: string[] = [];
  readonly #events: LinkEvents = {
    armed: () => this.update(),
    lost: () => this.lost(),
    message: (keys) => this.message(keys),
    refused: (_link, err) => this.refuse(err),
  };

  constructor(options: ClusterTrackingOptions) {
    super(options);
    this.#o = options;
    const cluster = options.cluster;
    this.#cluster = cluster;
    cluster.on('+node', (node: Redis) => this.#add(node));
    cluster.on('-node', (node: Redis) => this.#remove(node));
    cluster.on('refresh', () => this.#refreshed());
    cluster.on('ready', () => this.update());
    cluster.on('close', () => this.lost());
    for (const node of cluster.nodes('all')) this.#add(node);
  }

  /** Every node link, for tests and /metrics. */
  get links(): readonly TrackingLink[] {
    return [...this.#links.values()];
  }

  /** Closes every subscriber; the cluster client is the caller's. */
  close(): void {
    this.closeLinks();
  }

  protected allArmed(): boolean {
    if (this.#cluster.status !== 'ready') return false;
    let masters = 0;
    for (const link of this.#links.values()) {
      const master = link.data.options.readOnly !== true;
      if (master) masters++;
      // A replica counts once something has been read from it (a MOVED toward a promoted replica).
      if ((master || link.data.status === 'ready') && !link.armed) return false;
    }
    return masters > 0;
  }

  protected closeLinks(): void {
    for (const link of this.#links.values()) link.close();
    this.#links.clear();
  }

  #add(node: Redis): void {
    if (this.state === 'off' || this.#links.has(node)) return;
    const { host, port } = node.options;
    const where = `${host}:${port}`;
    const link = new TrackingLink({
      data: node,
      url: this.#o.url,
      server: { ...credentialsOf(this.#o.url), db: 0, host, port },
      where: 'a cluster node',
      timeoutMs: this.#o.timeoutMs,
      label: `${this.c.label} node ${where}`,
      log: this.c.log,
      ...(this.#o.pingMs ? { pingMs: this.#o.pingMs } : {}),
      ...(this.#o.tracking ? { tracking: this.#o.tracking } : {}),
      events: this.#events,
    });
    this.#links.set(node, link);
    // A new master arms before the gate opens again.
    this.update();
  }

  #remove(node: Redis): void {
    const link = this.#links.get(node);
    if (link === undefined) return;
    link.close();
    this.#links.delete(node);
    this.update();
  }

  #refreshed(): void {
    const slots = this.#cluster.slots;
    const owners = new Array<string>(16384);
    let moved = 0;
    for (let s = 0; s < 16384; s++) {
      owners[s] = slots[s]?.[0] ?? '';
      if (this.#owners.length > 0 && owners[s] !== this.#owners[s]) moved++;
    }
    this.#owners = owners;
    if (moved > 0) {
      this.stats[Stat.TopologyFlushes]!++;
      this.c.log.warn(
        `${this.c.label}: ${moved} cluster slots changed masters (failover or resharding); cache flushed, since their old masters no longer see their writes`,
      );
      this.flush();
    }
    // A replica promoted by the refresh is a master now: it must be armed too.
    this.update();
  }
}
