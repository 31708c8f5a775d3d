/**
 * A real Redis Cluster for tests and benchmarks: 3 masters and 3 replicas
 * (`redis-server --cluster-enabled yes` on free ports, joined with
 * `redis-cli --cluster create … --cluster-replicas 1`), with the two
 * operations the fault tests need done as an operator does them: a manual
 * failover (`CLUSTER FAILOVER` on a replica) and moving one slot with its keys
 * (`CLUSTER SETSLOT … IMPORTING/MIGRATING`, `MIGRATE`, `SETSLOT … NODE`, what
 * `redis-cli --cluster reshard` does for each slot). Every process is stopped
 * by pid in teardown, whether the test passed or not, and the working folder
 * (nodes.conf files) removed.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { freePort, logTail, spawnRedisServer, stopProcess } from './processes.js';
import { sleep } from './time.js';

const run = promisify(execFile);

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** One redis-server of the cluster. */
export interface ClusterNode {
  port: number;
  /** `127.0.0.1:<port>`, as the cluster announces it. */
  address: string;
  /** Its cluster node id (40 hex characters). */
  id: string;
  /** A plain (non-cluster) connection to this node alone. */
  client: Redis;
  child: ChildProcess;
}

export interface RedisCluster {
  nodes: ClusterNode[];
  /** Every node as `host:port,…`: the value for REDIS_CLUSTER_NODES. */
  seeds: string;
  /** A cluster client for setting data up (follows MOVED like any client). */
  client: Cluster;
  /** The node serving `slot` as master now (asked of the first node that answers, not cached). */
  masterOf(slot: number): Promise<ClusterNode>;
  /** The replicas of `master`, as the master reports them. */
  replicasOf(master: ClusterNode): Promise<ClusterNode[]>;
  /**
   * `CLUSTER FAILOVER` on `replica`, then waits until every node agrees it
   * is a master; resolves with the milliseconds that took.
   */
  failover(replica: ClusterNode): Promise<number>;
  /** Moves `slot` and the keys in it to `to`, as `redis-cli --cluster reshard` does slot by slot. */
  moveSlot(slot: number, to: ClusterNode): Promise<void>;
  /** Waits until every node reports cluster_state:ok and the same slot owners. */
  settled(): Promise<void>;
}

/** Starts a 3-master, 3-replica cluster on free ports. */
export async function startCluster(t: Teardown, options: { nodeTimeoutMs?: number } = {}): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'shardcache-cluster-'));
  const nodes: ClusterNode[] = [];
  t.teardown(async () => {
    for (const node of nodes) node.client.disconnect();
    await Promise.all(nodes.map((node) => stopProcess(node.child)));
    rmSync(dir, { recursive: true, force: true });
  });
  for (let i = 0; i < 6; i++) {
    const port = await freePort();
    const bus = await freePort();
    const child = await spawnRedisServer(port, [
      '--cluster-enabled',
      'yes',
      // The bus port is chosen too: port + 10000 may be taken, or past 65535.
      '--cluster-port',
      String(bus),
      '--cluster-config-file',
      join(dir, `nodes-${port}.conf`),
      '--cluster-node-timeout',
      String(options.nodeTimeoutMs ?? 5000),
      // A replica is not a failover candidate until its first sync is done: no 5 s wait for it.
      '--repl-diskless-sync-delay',
      '0',
      '--dir',
      dir,
      // Kept with the nodes.conf files (removed in teardown); quoted in errors.
      '--logfile',
      join(dir, `${port}.log`),
    ]);
    const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    nodes.push({ port, address: `127.0.0.1:${port}`, id: '', client, child });
  }
  await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => n.address), '--cluster-replicas', '1', '--cluster-yes'], {
    timeout: 60000,
  });
  for (const node of nodes) node.id = String(await node.client.call('CLUSTER', 'MYID'));
  const byAddress = new Map(nodes.map((n) => [n.address, n]));
  const seeds = nodes.map((n) => n.address).join(',');

  /** Each node's view: slot → master address, from CLUSTER SLOTS. */
  const owners = async (node: ClusterNode): Promise<string[]> => {
    const slots = (await node.client.call('CLUSTER', 'SLOTS')) as [number, number, [string, number], ...[string, number][]][];
    const owner: string[] = new Array<string>(16384).fill('');
    for (const [from, to, master] of slots) for (let s = from; s <= to; s++) owner[s] = `${master[0]}:${master[1]}`;
    return owner;
  };

  const cluster: RedisCluster = {
    nodes,
    seeds,
    client: undefined as unknown as Cluster,
    async masterOf(slot) {
      // Asked of the first node that answers: a test may have killed some.
      for (const node of nodes) {
        const view = await owners(node).catch(() => undefined);
        if (view !== undefined) return byAddress.get(view[slot]!)!;
      }
      throw new Error('no cluster node answers CLUSTER SLOTS');
    },
    async replicasOf(master) {
      const info = String(await master.client.info('replication'));
      // Online only: a replica still in its first sync cannot take over.
      const replicas = [...info.matchAll(/slave\d+:ip=([^,]+),port=(\d+),state=online/g)].map((m) => byAddress.get(`${m[1]}:${m[2]}`)!);
      return replicas.filter((r) => r !== undefined);
    },
    async failover(replica) {
      const started = performance.now();
      const deadline = Date.now() + 30000;
      // A manual failover the master does not acknowledge within 5 s is abandoned by Redis: ask again.
      let asked = 0;
      while (Date.now() < deadline) {
        if (Date.now() - asked > 6000) {
          await replica.client.call('CLUSTER', 'FAILOVER');
          asked = Date.now();
        }
        const role = (await replica.client.call('ROLE')) as [string];
        if (role[0] === 'master') {
          await cluster.settled();
          return performance.now() - started;
        }
        await sleep(20);
      }
      throw new Error(
        `CLUSTER FAILOVER on ${replica.address}: still not a master after 30 s; its log ends:\n${logTail(join(dir, `${replica.port}.log`))}`,
      );
    },
    async moveSlot(slot, to) {
      const from = await cluster.masterOf(slot);
      if (from === to) return;
      await to.client.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', from.id);
      await from.client.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', to.id);
      for (;;) {
        const keys = (await from.client.call('CLUSTER', 'GETKEYSINSLOT', String(slot), '100')) as string[];
        if (keys.length === 0) break;
        await from.client.call('MIGRATE', '127.0.0.1', String(to.port), '', '0', '5000', 'KEYS', ...keys);
      }
      // The new owner first, then the old one, then the rest: the order redis-cli uses.
      const masters = await Promise.all(nodes.map(async (n) => ({ n, role: ((await n.client.call('ROLE')) as [string])[0] })));
      for (const n of [
        to,
        from,
        ...masters
          .filter((m) => m.role === 'master')
          .map((m) => m.n)
          .filter((n) => n !== to && n !== from),
      ]) {
        await n.client.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id);
      }
      await cluster.settled();
    },
    async settled() {
      const deadline = Date.now() + 30000;
      for (;;) {
        const infos = await Promise.all(nodes.map((n) => n.client.call('CLUSTER', 'INFO') as Promise<string>));
        const views = await Promise.all(nodes.map(owners));
        // Every node must also see 3 masters and 3 replicas, none failing: a
        // master that does not yet know its replica ignores its manual failover.
        const tables = await Promise.all(nodes.map((n) => n.client.call('CLUSTER', 'NODES') as Promise<string>));
        const roles = tables.every((table) => {
          const flags = table
            .trim()
            .split('\n')
            .map((line) => line.split(' ')[2]!);
          return (
            flags.filter((f) => /master/.test(f)).length === 3 &&
            flags.filter((f) => /slave/.test(f)).length === 3 &&
            !flags.some((f) => /fail|handshake|noaddr/.test(f))
          );
        });
        const ok = roles && infos.every((i) => /cluster_state:ok/.test(i) && /cluster_slots_ok:16384/.test(i));
        const same = views.every((v) => v.every((owner, s) => owner !== '' && owner === views[0]![s]));
        if (ok && same) return;
        if (Date.now() > deadline) throw new Error('the cluster did not settle within 30 s');
        await sleep(50);
      }
    },
  };
  await cluster.settled();
  // Replicas must be attached too: a failover test needs one per master.
  const deadline = Date.now() + 30000;
  for (;;) {
    const masters = await Promise.all(
      nodes.map(async (n) => (((await n.client.call('ROLE')) as [string])[0] === 'master' ? n : undefined)),
    );
    const withReplicas = await Promise.all(masters.filter((m) => m !== undefined).map(async (m) => (await cluster.replicasOf(m!)).length));
    if (withReplicas.length === 3 && withReplicas.every((n) => n >= 1)) break;
    if (Date.now() > deadline) throw new Error('the replicas did not attach within 30 s');
    await sleep(50);
  }
  // A write to a dead master fails after a second instead of retrying on.
  const client = new Cluster(
    nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    { redisOptions: { maxRetriesPerRequest: 1, commandTimeout: 1000 } },
  );
  client.on('error', () => {});
  t.teardown(() => client.disconnect());
  await client.ping();
  cluster.client = client;
  return cluster;
}

/** The hash slot of `key` (CRC16 of the key, or of its {hash tag}), as the cluster computes it. */
export { default as slotOf } from 'cluster-key-slot';
