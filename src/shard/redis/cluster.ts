/**
 * A shard's Redis Cluster client: ioredis' `Cluster`, which owns slot
 * routing, MOVED and ASK redirections, retries during failovers and the
 * topology refresh; this file adds nothing to those, it only sets them up to
 * fail fast, as the standalone connection does, and reads a batch's misses.
 *
 * Fail fast: no offline queue (a cluster that is not ready fails a command
 * at once), `commandTimeout` on every node connection (REDIS_TIMEOUT_MS from
 * the command's first write, retries and redirections included), so a
 * failover costs the requests in flight 503s, never a hang. Node
 * connections that die are not retried by themselves (ioredis' default): the
 * next command for their slots, or the periodic refresh, finds the node again.
 * Each node connection gets the idle-link PING of `watchLink`.
 *
 * Reads: one GET per key, through the cluster client. A multi-key MGET is
 * refused across hash slots (CROSSSLOT), and random keys almost never share
 * a slot, so grouping a batch by slot degenerates to one command per key
 * anyway. What one command per key costs is mostly one system call per
 * command: so the first fetch of an event-loop turn corks the masters'
 * sockets and `setImmediate` uncorks them once that turn's GETs are all
 * written, which makes them one write per node. docs/deploy.md has the
 * measurements behind this.
 */
import { Cluster, type Redis } from 'ioredis';
import type { Log } from '../../log.js';
import type { Fetch } from '../batch-fetch.js';
import { credentialsOf } from './endpoints.js';
import { formatHostPort, type BackendSettings } from '../../routing/backend-settings.js';
import { outcomeOf, reconnectDelay, valueOrNotFound, watchLink } from './redis.js';

/** Interval of ioredis' topology refresh (CLUSTER SLOTS); a slot that moved unseen is noticed at most this late. */
export const SLOTS_REFRESH_MS = 5000;

export interface ClusterOptions {
  settings: BackendSettings;
  /** Prefix for log lines and the connections' names, e.g. `shard 2`. */
  label: string;
  log: Log;
  /** The idle-link check interval for every node connection (`watchLink`); absent: none. */
  pingMs?: number;
  /** Told when the cluster client becomes ready (`true`) or loses the cluster (`false`). */
  onUp?: (up: boolean) => void;
  /** Told the number of masters, and of masters whose connection is ready, whenever either changes. */
  onNodes?: (masters: number, up: number) => void;
}

/** A shard's cluster client, its fetch, and the way to close it. */
export interface ClusterConnection {
  cluster: Cluster;
  /** GET of one key through the cluster client (see above). */
  fetch: Fetch;
  /** Corks the masters' sockets until the end of this event-loop turn (what `fetch` does first). */
  cork(): void;
  /** The master node connections, as of the last topology change. */
  masters(): readonly Redis[];
  close(): void;
}

/** Opens the cluster client toward the seed nodes and logs its state changes in one line each. */
export function connectCluster(o: ClusterOptions): ClusterConnection {
  const { settings, log, label } = o;
  // The cluster has only database 0 (the configuration refuses another).
  const { db: _db, ...credentials } = credentialsOf(settings.url);
  const cluster = new Cluster(
    settings.nodes.map((n) => ({ host: n.host, port: n.port })),
    {
      enableOfflineQueue: false,
      scaleReads: 'master',
      slotsRefreshInterval: SLOTS_REFRESH_MS,
      slotsRefreshTimeout: Math.max(settings.timeoutMs, 1000),
      // As the standalone connection: the first attempt at once, then 100 ms doubling to 1 s.
      clusterRetryStrategy: reconnectDelay,
      redisOptions: {
        ...credentials,
        commandTimeout: settings.timeoutMs,
        connectTimeout: Math.max(settings.timeoutMs, 1000),
        autoResendUnfulfilledCommands: false,
        maxRetriesPerRequest: 0,
        connectionName: `shardcache:${label.replace(/\s+/g, '-')}`,
        disableClientInfo: true,
        // RESP2: its parser costs less per small reply, and RESP3 brings
        // nothing here (invalidations reach a RESP2 subscriber by REDIRECT).
        protocol: 2,
      },
    },
  );
  const where = `redis cluster ${settings.nodes.map(formatHostPort).join(',')}`;
  let state: 'connecting' | 'up' | 'down' | 'closed' = 'connecting';
  const onUp = o.onUp ?? ((): void => {});
  cluster.on('ready', () => {
    if (state === 'closed') return;
    nodesChanged();
    log.info(`${label}: ${where} ${state === 'down' ? 'reconnected' : 'connected'} (${masters.length} masters)`);
    state = 'up';
    onUp(true);
  });
  const down = (why: string): void => {
    if (state === 'down' || state === 'closed') return;
    log.warn(`${label}: ${where} ${state === 'up' ? 'lost' : 'unreachable'} (${why}); retrying`);
    state = 'down';
    onUp(false);
  };
  cluster.on('error', (err: Error) => down(err.message.split('\n', 1)[0]!));
  cluster.on('close', () => down('every node connection closed'));
  cluster.on('node error', () => undefined);

  let masters: Redis[] = [];
  const watched = new Map<Redis, NodeJS.Timeout>();
  const count = (): void => {
    let up = 0;
    for (const node of masters) if (node.status === 'ready') up++;
    o.onNodes?.(masters.length, up);
  };
  const nodesChanged = (): void => {
    masters = cluster.nodes('master');
    // Masters are read from sooner or later: connected now, they are ready
    // (and, with tracking, armed) when they are. A replica promoted by a
    // refresh is a master from then on. Not before the cluster client is
    // ready: its ready check refuses a node that is connecting (it would
    // queue on one not yet asked to), and starts over.
    if (cluster.status === 'ready') for (const node of masters) if (node.status === 'wait') node.connect().catch(() => undefined);
    count();
  };
  cluster.on('+node', (node: Redis) => {
    const name = `${label} ${node.options.host}:${node.options.port}`;
    if (o.pingMs !== undefined) watched.set(node, watchLink(node, name, log, o.pingMs));
    node.on('ready', count);
    node.on('close', count);
    node.once('end', () => {
      clearInterval(watched.get(node));
      watched.delete(node);
    });
    nodesChanged();
  });
  cluster.on('-node', nodesChanged);
  cluster.on('refresh', nodesChanged);

  // Corked sockets, uncorked once the turn's GETs are written.
  let corked = false;
  const streams: NodeJS.WritableStream[] = [];
  const uncork = (): void => {
    corked = false;
    for (let i = 0; i < streams.length; i++) (streams[i] as NodeJS.WritableStream & { uncork(): void }).uncork();
    streams.length = 0;
  };
  const cork = (): void => {
    if (!corked) {
      corked = true;
      for (let i = 0; i < masters.length; i++) {
        const node = masters[i]!;
        if (node.status === 'ready' && node.stream !== undefined) {
          node.stream.cork();
          streams.push(node.stream);
        }
      }
      // At the end of this event-loop turn, not of this batch: request
      // batches that arrive in the same turn (one per acceptor) share the
      // writes, a few µs of system time saved per batch and node.
      setImmediate(uncork);
    }
  };
  const fetch: Fetch = (key) => {
    cork();
    return cluster.getBuffer(key).then(valueOrNotFound, outcomeOf);
  };
  return {
    cluster,
    fetch,
    cork,
    masters: () => masters,
    close() {
      state = 'closed';
      for (const timer of watched.values()) clearInterval(timer);
      watched.clear();
      cluster.disconnect();
    },
  };
}
