/**
 * A real Sentinel setup for tests: one master, one replica and three
 * sentinels (`redis-server <conf> --sentinel`) on free ports, monitoring the
 * master as `shardcache`, with a one-second down-after so that failovers are
 * quick. `failover()` asks a sentinel for a manual failover (`SENTINEL
 * FAILOVER`) and waits until every sentinel names the new master. Every
 * process is stopped by pid in teardown, and the working folder removed.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, logTail, spawnRedisServer, stopProcess } from './processes.js';
import { sleep } from './time.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** One redis-server (data node or sentinel). */
export interface SentinelNode {
  port: number;
  address: string;
  client: Redis;
  child: ChildProcess;
}

export interface SentinelSetup {
  /** The master group's name: the value for REDIS_SENTINEL_NAME. */
  name: string;
  /** The sentinels as `host:port,…`: the value for REDIS_SENTINELS. */
  sentinels: string;
  /** The two data nodes; which one is master changes with failovers. */
  servers: SentinelNode[];
  sentinelNodes: SentinelNode[];
  /** The data node the sentinels name as master now. */
  master(): Promise<SentinelNode>;
  /** `SENTINEL FAILOVER` and a wait until every sentinel names the other node; resolves with the milliseconds it took. */
  failover(): Promise<number>;
}

const NAME = 'shardcache';

/** Starts a master, its replica and three sentinels on free ports. */
export async function startSentinels(t: Teardown): Promise<SentinelSetup> {
  const dir = mkdtempSync(join(tmpdir(), 'shardcache-sentinel-'));
  const all: SentinelNode[] = [];
  t.teardown(async () => {
    for (const node of all) node.client.disconnect();
    await Promise.all(all.map((node) => stopProcess(node.child)));
    rmSync(dir, { recursive: true, force: true });
  });
  const start = async (extra: string[], command?: string[]): Promise<SentinelNode> => {
    const port = await freePort();
    const child = await spawnRedisServer(port, [...extra, '--logfile', join(dir, `${port}.log`), '--dir', dir], '127.0.0.1', command);
    const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    const node = { port, address: `127.0.0.1:${port}`, client, child };
    all.push(node);
    return node;
  };
  const master = await start([]);
  const replica = await start(['--replicaof', '127.0.0.1', String(master.port), '--repl-diskless-sync-delay', '0']);
  await master.client.call('CONFIG', 'SET', 'repl-diskless-sync-delay', '0');
  const sentinelNodes: SentinelNode[] = [];
  for (let i = 0; i < 3; i++) {
    // Sentinel rewrites its configuration file, so each gets its own.
    const conf = join(dir, `sentinel-${i}.conf`);
    writeFileSync(
      conf,
      [
        `sentinel monitor ${NAME} 127.0.0.1 ${master.port} 2`,
        `sentinel down-after-milliseconds ${NAME} 1000`,
        `sentinel failover-timeout ${NAME} 10000`,
        `sentinel parallel-syncs ${NAME} 1`,
        '',
      ].join('\n'),
    );
    sentinelNodes.push(await start(['--sentinel'], ['redis-server', conf]));
  }
  const servers = [master, replica];
  const byAddress = new Map(servers.map((s) => [s.address, s]));
  const masterAddress = async (sentinel: SentinelNode): Promise<string> => {
    const [host, port] = (await sentinel.client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', NAME)) as [string, string];
    return `${host}:${port}`;
  };
  const setup: SentinelSetup = {
    name: NAME,
    sentinels: sentinelNodes.map((s) => s.address).join(','),
    servers,
    sentinelNodes,
    async master() {
      return byAddress.get(await masterAddress(sentinelNodes[0]!))!;
    },
    async failover() {
      const before = await masterAddress(sentinelNodes[0]!);
      const started = performance.now();
      await sentinelNodes[0]!.client.call('SENTINEL', 'FAILOVER', NAME);
      const deadline = Date.now() + 30000;
      while (Date.now() < deadline) {
        const views = await Promise.all(sentinelNodes.map(masterAddress));
        const promoted = byAddress.get(views[0]!);
        if (
          views.every((v) => v === views[0] && v !== before) &&
          promoted !== undefined &&
          ((await promoted.client.call('ROLE')) as [string])[0] === 'master'
        ) {
          return performance.now() - started;
        }
        await sleep(20);
      }
      throw new Error(
        `SENTINEL FAILOVER: the sentinels did not agree on a new master within 30 s; a sentinel's log ends:\n${logTail(join(dir, `${sentinelNodes[0]!.port}.log`))}`,
      );
    },
  };
  // Ready when every sentinel knows the replica (online) and the two other sentinels.
  const deadline = Date.now() + 30000;
  for (;;) {
    const ready = await Promise.all(
      sentinelNodes.map(async (s) => {
        const replicas = (await s.client.call('SENTINEL', 'REPLICAS', NAME)) as string[][];
        const others = (await s.client.call('SENTINEL', 'SENTINELS', NAME)) as string[][];
        const online = replicas.some((r) => {
          const flags = r[r.indexOf('flags') + 1] ?? '';
          return flags === 'slave' && r[r.indexOf('master-link-status') + 1] === 'ok';
        });
        return online && others.length === 2;
      }),
    );
    if (ready.every(Boolean)) break;
    if (Date.now() > deadline) throw new Error('the sentinels did not discover each other and the replica within 30 s');
    await sleep(100);
  }
  return setup;
}
