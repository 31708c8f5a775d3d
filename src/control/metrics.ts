/**
 * The Prometheus metrics, built with prom-client at scrape time from plain
 * numbers the threads already keep in shared memory: each acceptor's stats
 * array (request counts, connections, shed counts, event-loop delay), the
 * process-wide in-flight counts, each shard's stats array, and the restart
 * counts. Nothing here runs per request; counts of several acceptors are
 * summed here, at scrape time.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';
import { RESP_COMMANDS, RESP_STATUSES, TYPED_FAMILIES } from '../metrics/labels.js';
import { PROTOCOLS } from '../hop/vocabulary.js';
import { AcceptorStat, HTTP_METHODS, HTTP_STATUSES, httpCounts, respCounts, shedCounts } from '../metrics/acceptor-stats.js';
import { Stat } from '../metrics/shard-stats.js';
import { PROTOCOL_FIGURES, SHARD_FIGURES } from './metric-figures.js';
import { latencyHistogram } from './latency-histogram.js';
import { threadCpuSeconds } from '../metrics/thread.js';

/** Where the figures live; each field is read only when /metrics is scraped. */
export interface MetricSources {
  /** Per acceptor (`AcceptorStat` slots); acceptor 0 is the main thread. */
  acceptorStats: readonly Float64Array[];
  /** Per acceptor: threads replaced after dying. */
  acceptorRestarts: Float64Array;
  /** Whether the RESP listener runs (its counts are exported then). */
  resp: boolean;
  /** Per shard: requests in flight, all acceptors together. */
  inflight: Int32Array;
  /** Per shard, `Stat` slots. */
  shardStats: readonly Float64Array[];
  /** Per shard: workers replaced after dying. */
  shardRestarts: Float64Array;
  /**
   * The labels of `shardcache_info` (always 1): `version`, `invalidation`,
   * `redis_mode`, `tracking_mode`, so that an alert or a panel can depend on how the proxy
   * runs (tracking unarmed only matters with INVALIDATION=tracking).
   */
  info: Readonly<Record<string, string>>;
}

/** One front end's request counts, summed over the acceptors, with the labels of its rows and columns. */
interface RequestCounts {
  protocol: (typeof PROTOCOLS)[number];
  view: (stats: Float64Array) => Float64Array;
  commands: readonly string[];
  statuses: readonly string[];
}

const HTTP_STATUS_LABELS: readonly string[] = Array.from({ length: HTTP_STATUSES }, (_, status) => String(status));

type Emit = (labels: Record<string, string>, value: number) => void;

/** Builds the registry; `/metrics` answers `await registry.metrics()`. */
export function createMetrics(src: MetricSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  /** A counter or gauge whose samples are read from `read` at each scrape. */
  const metric = (kind: 'counter' | 'gauge', name: string, help: string, labelNames: string[], read: (emit: Emit) => void): void => {
    if (kind === 'counter') {
      new Counter({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          read((labels, value) => this.inc(labels, value));
        },
      });
    } else {
      new Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          read((labels, value) => this.set(labels, value));
        },
      });
    }
  };
  const perShard =
    (values: ArrayLike<number>, label = 'shard') =>
    (emit: Emit) => {
      for (let i = 0; i < values.length; i++) emit({ [label]: String(i) }, values[i]!);
    };
  const fromStats = (slot: number) => (emit: Emit) => {
    for (const [i, s] of src.shardStats.entries()) emit({ shard: String(i) }, s[slot]!);
  };
  /** Per shard, one sample for each `[label value, slot]`. */
  const bySlots = (label: string, slots: readonly (readonly [string, number])[]) => (emit: Emit) => {
    for (const [i, s] of src.shardStats.entries()) for (const [value, slot] of slots) emit({ shard: String(i), [label]: value }, s[slot]!);
  };

  const fronts: RequestCounts[] = [{ protocol: 'http', view: httpCounts, commands: HTTP_METHODS, statuses: HTTP_STATUS_LABELS }];
  if (src.resp) fronts.push({ protocol: 'resp', view: respCounts, commands: RESP_COMMANDS, statuses: RESP_STATUSES });
  metric(
    'counter',
    'shardcache_requests_total',
    'Requests answered, by protocol, command (HTTP: method) and status (HTTP: status code; RESP: nil, ok, shed or error)',
    ['protocol', 'command', 'status'],
    (emit) => {
      for (const { protocol, view, commands, statuses } of fronts) {
        const counts = sum(src.acceptorStats.map(view));
        for (let i = 0; i < counts.length; i++) {
          if (counts[i]! > 0)
            emit({ protocol, command: commands[Math.floor(i / statuses.length)]!, status: statuses[i % statuses.length]! }, counts[i]!);
        }
      }
    },
  );
  const perAcceptor = (label: string, read: (stats: Float64Array, p: number) => number, protocols: number) => (emit: Emit) =>
    src.acceptorStats.forEach((s, i) => {
      for (let p = 0; p < protocols; p++) emit({ acceptor: String(i), [label]: PROTOCOLS[p]! }, read(s, p));
    });
  const protocols = fronts.length;
  metric(
    'counter',
    'shardcache_acceptor_requests_total',
    'Requests answered by each acceptor thread, by protocol (RESP: commands)',
    ['acceptor', 'protocol'],
    perAcceptor('protocol', (s, p) => total(fronts[p]!.view(s)), protocols),
  );
  metric(
    'gauge',
    'shardcache_acceptor_connections',
    'Client connections open on each acceptor thread, by protocol',
    ['acceptor', 'protocol'],
    perAcceptor('protocol', (s, p) => s[AcceptorStat.Connections + p]!, protocols),
  );
  metric(
    'counter',
    'shardcache_acceptor_connections_total',
    'Client connections each acceptor thread accepted, by protocol',
    ['acceptor', 'protocol'],
    perAcceptor('protocol', (s, p) => s[AcceptorStat.Accepted + p]!, protocols),
  );
  metric(
    'counter',
    'shardcache_refused_connections_total',
    'Client connections closed at once because MAX_CONNECTIONS were open, by acceptor and protocol',
    ['acceptor', 'protocol'],
    perAcceptor('protocol', (s, p) => s[AcceptorStat.Refused + p]!, protocols),
  );
  metric('gauge', 'shardcache_acceptor_listening', '1 while the acceptor thread listens on its ports', ['acceptor'], (emit) => {
    for (const [i, s] of src.acceptorStats.entries()) emit({ acceptor: String(i) }, s[AcceptorStat.Listening]!);
  });
  metric(
    'counter',
    'shardcache_acceptor_restarts_total',
    'Acceptor threads that died and were replaced',
    ['acceptor'],
    perShard(src.acceptorRestarts, 'acceptor'),
  );
  for (const [name, slot, help] of PROTOCOL_FIGURES)
    metric(
      'counter',
      name,
      help,
      ['shard', 'protocol'],
      bySlots(
        'protocol',
        PROTOCOLS.map((protocol, p) => [protocol, slot + p]),
      ),
    );
  for (const [kind, name, slot, help] of SHARD_FIGURES) metric(kind, name, help, ['shard'], fromStats(slot));
  for (const [name, slot, help] of [
    [
      'shardcache_typed_hits_total',
      Stat.TypedHits,
      'Typed commands (HGET, LRANGE, ZRANGE, EXISTS…; and HTTP views of hashes, lists, sets, sorted sets, as keys) answered from the cache, by family',
    ],
    ['shardcache_typed_misses_total', Stat.TypedMisses, 'Typed commands that waited on a read of their key from Redis, by family'],
  ] as const)
    metric(
      'counter',
      name,
      help,
      ['shard', 'family'],
      bySlots(
        'family',
        TYPED_FAMILIES.map((family, f) => [family, slot + f]),
      ),
    );
  metric(
    'counter',
    'shardcache_invalidations_total',
    'Invalidations from Redis client tracking: keys named by messages (kind="key"), null messages that emptied the cache (kind="flush": FLUSHALL, FLUSHDB)',
    ['shard', 'kind'],
    bySlots('kind', [
      ['key', Stat.InvalidatedKeys],
      ['flush', Stat.InvalidationFlushes],
    ]),
  );
  // Read by shard 0 alone, for the whole proxy: no shard label; absent until read (or where it cannot be).
  const table = (slot: number) => (emit: Emit) => {
    const value = src.shardStats[0]?.[slot] ?? -1;
    if (value >= 0) emit({}, value);
  };
  metric(
    'gauge',
    'shardcache_redis_tracking_keys',
    "Keys in Redis's tracking table (INFO tracking_total_keys, read every 5 s; a cluster: the fullest master's)",
    [],
    table(Stat.TrackingKeys),
  );
  metric(
    'gauge',
    'shardcache_redis_tracking_table_max_keys',
    "That server's tracking-table-max-keys (CONFIG GET at start; 0: no limit)",
    [],
    table(Stat.TrackingTableMaxKeys),
  );
  metric(
    'gauge',
    'shardcache_inflight_requests',
    'Requests handed to the shard and not answered yet (hits included), all acceptors together',
    ['shard'],
    perShard(src.inflight),
  );
  metric(
    'gauge',
    'shardcache_waiting_requests',
    'Requests waiting on Redis (misses and the waiters on their fetches), all acceptors together: what MAX_INFLIGHT bounds',
    ['shard'],
    fromStats(Stat.Waiting),
  );
  metric(
    'counter',
    'shardcache_shed_total',
    'Requests refused with 503 at once: reason="misses", misses past MAX_INFLIGHT waiting on Redis; reason="queue", past the shard\'s hand-off bound (MAX_INFLIGHT + MAX_CONNECTIONS per listener)',
    ['shard', 'reason'],
    (emit) => {
      for (const [i, s] of src.shardStats.entries()) emit({ shard: String(i), reason: 'misses' }, s[Stat.ShedMisses]!);
      const queue = sum(src.acceptorStats.map(shedCounts));
      for (let i = 0; i < queue.length; i++) emit({ shard: String(i), reason: 'queue' }, queue[i]!);
    },
  );
  metric('counter', 'shardcache_shard_restarts_total', 'Shard workers that died and were replaced', ['shard'], perShard(src.shardRestarts));
  /** Every thread: its label, stats array, and the slots of its loop delay and thread id. */
  const threads = (): [string, Float64Array, number, number][] => [
    ...src.acceptorStats.map((s, i): [string, Float64Array, number, number] => [
      `acceptor-${i}`,
      s,
      AcceptorStat.LoopP50,
      AcceptorStat.Tid,
    ]),
    ...src.shardStats.map((s, i): [string, Float64Array, number, number] => [`shard-${i}`, s, Stat.LoopP50, Stat.Tid]),
  ];
  metric(
    'gauge',
    'shardcache_event_loop_delay_seconds',
    'Event-loop delay over the last second, per thread (acceptor-0 is the main thread)',
    ['thread', 'quantile'],
    (emit) => {
      for (const [thread, values, at] of threads()) {
        emit({ thread, quantile: '0.5' }, values[at]!);
        emit({ thread, quantile: '0.99' }, values[at + 1]!);
        emit({ thread, quantile: '1' }, values[at + 2]!);
      }
    },
  );
  metric(
    'counter',
    'shardcache_thread_cpu_seconds_total',
    'CPU time (user + system) of each thread, from /proc (Linux only); a replaced thread starts again from 0',
    ['thread'],
    (emit) => {
      for (const [thread, values, , tid] of threads()) {
        const seconds = threadCpuSeconds(values[tid]!);
        if (seconds !== undefined) emit({ thread }, seconds);
      }
    },
  );
  metric(
    'gauge',
    'shardcache_info',
    'Always 1; the labels say what runs: version, INVALIDATION, the Redis mode, TRACKING_MODE',
    Object.keys(src.info),
    (emit) => emit(src.info, 1),
  );
  registry.registerMetric(latencyHistogram(src.shardStats) as unknown as Metric);
  return registry;
}

/** Element-wise sum of equally long arrays (the acceptors' counts, for instance). */
export function sum(arrays: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(arrays[0]?.length ?? 0);
  for (const a of arrays) for (let i = 0; i < a.length; i++) out[i]! += a[i]!;
  return out;
}

function total(values: Float64Array): number {
  let t = 0;
  for (let i = 0; i < values.length; i++) t += values[i]!;
  return t;
}
