/**
 * `openBackend` in-process (src/shard/backend.ts, cluster.ts,
 * cluster-tracking.ts): a Shard over a real 3 + 3 Redis Cluster and over a
 * real Sentinel setup, with the figures the worker publishes. The system
 * tests (cluster*.test.ts, sentinel.test.ts) drive the same code through
 * the built proxy; this file looks at its state from inside.
 */
import t from 'tap';
import { Outcome } from '../src/hop/vocabulary.js';
import { Stat } from '../src/metrics/shard-stats.js';
import { shardOver, until } from './helpers/backend-shard.js';
import { slotOf, startCluster } from './helpers/cluster.js';
import { freePort } from './helpers/processes.js';
import { startSentinels } from './helpers/sentinel.js';
import { sleep } from './helpers/time.js';

t.test('cluster: tracking on every master, topology flush on failover, re-armed after a lost node connection', async (t) => {
  const cluster = await startCluster(t);
  const { backend, shard, stats, lines, read } = shardOver(t, {
    mode: 'cluster',
    url: 'redis://127.0.0.1:6379',
    nodes: [{ host: '127.0.0.1', port: cluster.nodes[0]!.port }],
    sentinelName: '',
    timeoutMs: 500,
  });
  t.equal(await backend.ready(5000), 'ready', 'ready', { lines });
  t.same(
    [stats[Stat.RedisUp], stats[Stat.RedisNodes], stats[Stat.RedisNodesUp], stats[Stat.TrackingArmed]],
    [1, 3, 3, 1],
    'one seed is enough: up, 3 masters reached, tracking armed',
  );
  t.equal(backend.fetchMany, undefined, 'no multi-key fetch in a cluster');
  const keys = Array.from({ length: 30 }, (_, i) => `b:${i}`);
  for (const k of keys) await cluster.client.set(k, `one ${k}`);
  await cluster.client.rpush('b:list', 'x');
  t.same(
    await read([...keys, 'b:absent', 'b:list']),
    [...keys.map((k) => `one ${k}`), Outcome.NotFound, Outcome.WrongType],
    'one batch across all masters: values, 404 and WRONGTYPE',
  );
  const misses = shard.misses[0]!;
  t.same(
    await read(keys),
    keys.map((k) => `one ${k}`),
  );
  t.equal(shard.misses[0], misses, 'all hits the second time');

  const invalidated = (): number => stats[Stat.InvalidatedKeys]!;
  let seen = invalidated();
  await cluster.client.set(keys[0]!, `two ${keys[0]}`);
  await until(() => invalidated() > seen, "the invalidation from the key's master");
  t.same(await read([keys[0]!]), [`two ${keys[0]}`]);

  const master = await cluster.masterOf(slotOf(keys[0]!));
  const [replica] = await cluster.replicasOf(master);
  await cluster.failover(replica!);
  // A read of a moved slot meets a MOVED, which makes ioredis refresh the topology.
  await until(async () => {
    await read(keys);
    return stats[Stat.TopologyFlushes]! >= 1;
  }, 'the flush for the slots that changed masters');
  t.match(lines.join('\n'), /shard 0: \d+ cluster slots changed masters \(failover or resharding\); cache flushed/);
  await until(() => stats[Stat.TrackingArmed] === 1 && shard.caching, 'armed again, with the promoted replica');
  t.same(
    await read(keys),
    keys.map((k, i) => (i === 0 ? `two ${k}` : `one ${k}`)),
  );
  seen = invalidated();
  await cluster.client.set(keys[0]!, `three ${keys[0]}`);
  await until(() => invalidated() > seen, 'the invalidation from the new master');
  t.same(await read([keys[0]!]), [`three ${keys[0]}`]);

  // Our data connection to one master, killed: a lost link, then a new connection, armed again.
  const arms = stats[Stat.TrackingRearms]!;
  const owner = await cluster.masterOf(slotOf(keys[1]!));
  await owner.client.call('CLIENT', 'KILL', 'USER', 'default', 'SKIPME', 'yes');
  await until(async () => {
    await read([keys[1]!]).catch(() => undefined);
    return stats[Stat.TrackingRearms]! > arms && shard.caching;
  }, 're-armed after the lost connections');
  t.same(await read([keys[1]!]), [`one ${keys[1]}`]);
  t.equal(stats[Stat.RedisNodesUp], 3, 'all three masters reached again');

  backend.close();
  await sleep(100);
  const left = await Promise.all(
    cluster.nodes.map(
      async (n) =>
        String(await n.client.client('LIST'))
          .split('\n')
          .filter((l) => / name=shardcache:shard-0/.test(l)).length,
    ),
  );
  t.same(left, [0, 0, 0, 0, 0, 0], 'close leaves no connection behind, data or subscriber');
});

t.test('cluster unreachable: not ready after the wait, said in one line, nothing cached', async (t) => {
  const port = await freePort();
  const { backend, stats, lines, shard } = shardOver(t, {
    mode: 'cluster',
    url: 'redis://127.0.0.1:6379',
    nodes: [{ host: '127.0.0.1', port }],
    sentinelName: '',
    timeoutMs: 200,
  });
  t.equal(await backend.ready(300), 'redis unreachable');
  t.equal(stats[Stat.RedisUp], 0);
  t.equal(shard.caching, false);
  t.match(lines.join('\n'), new RegExp(`shard 0: redis cluster 127\\.0\\.0\\.1:${port} unreachable`));
  t.equal(await backend.fetch(Buffer.from('k')), Outcome.Unavailable, 'a fetch fails at once: 503');
});

t.test('sentinel: the master the sentinels name, tracked; a failover is a lost link, re-armed on the new master', async (t) => {
  const setup = await startSentinels(t);
  const { backend, shard, stats, read } = shardOver(t, {
    mode: 'sentinel',
    url: 'redis://127.0.0.1:6379',
    nodes: setup.sentinelNodes.map((s) => ({ host: '127.0.0.1', port: s.port })),
    sentinelName: setup.name,
    timeoutMs: 500,
  });
  t.equal(await backend.ready(5000), 'ready');
  t.same([stats[Stat.RedisNodes], stats[Stat.RedisNodesUp], stats[Stat.TrackingArmed]], [1, 1, 1]);
  let master = await setup.master();
  await master.client.set('s:k', 'one');
  t.same(await read(['s:k']), ['one']);
  let seen = stats[Stat.InvalidatedKeys]!;
  await master.client.set('s:k', 'two');
  await until(() => stats[Stat.InvalidatedKeys]! > seen, 'the invalidation');
  await setup.failover();
  master = await setup.master();
  await until(() => stats[Stat.TrackingRearms]! >= 1 && shard.caching, 're-armed on the new master');
  await master.client.set('s:k', 'three');
  await until(async () => (await read(['s:k']))[0] === 'three', "the new master's value");
  seen = stats[Stat.InvalidatedKeys]!;
  await master.client.set('s:k', 'four');
  await until(() => stats[Stat.InvalidatedKeys]! > seen, 'the invalidation from the new master');
  t.same(await read(['s:k']), ['four']);
});
