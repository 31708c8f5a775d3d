/**
 * A Redis behind a link the test can degrade: a network namespace of the
 * test's own, joined to the host by a veth pair on a private /30, with
 * redis-server inside it. The proxy reaches it over the veth (through the
 * delay relay, `delay-relay.ts`); the test's own client reaches it through
 * a unix socket, which the link's faults do not touch, so that the test can
 * write and look while the link is cut.
 *
 * Faults: `delay(ms)` (the relay; this kernel has no netem), `loss(percent)`
 * (iptables' statistic match on the namespace's outgoing packets, as netem
 * loss on that side of the link would drop them), `cut()` and `restore()`
 * (`ip link set … down/up` on the namespace's end: packets vanish without a
 * FIN or a reset, as on a dead route), `reset()` (a TCP RST on every open
 * connection's next packet).
 *
 * Names carry the test's pid, so parallel test files never collide, and
 * namespaces left by a test process that no longer runs (killed before its
 * teardown) are removed first. Everything is removed in teardown, whatever
 * the outcome: redis-server and the relay stopped by pid, then the
 * namespace (which takes its veth end, its peer and its iptables rules with it).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { ROOT, spawnRedisServer, stopProcess } from './processes.js';

const run = promisify(execFile);
const PREFIX = 'shardcache-';
let created = 0;

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface NetnsRedis {
  /** The proxy's REDIS_URL: the relay at the namespace's address. */
  url: string;
  /** A client over the unix socket, untouched by the link's faults. */
  client: Redis;
  namespace: string;
  /** Adds `ms` to every reply (0: none). */
  delay(ms: number): Promise<void>;
  /** Drops `percent` % of the packets the namespace sends (0: none). */
  loss(percent: number): Promise<void>;
  /** Takes the namespace's end of the link down. */
  cut(): Promise<void>;
  /** Brings it up again. */
  restore(): Promise<void>;
  /**
   * Answers the next packet of every connection open to the relay now with
   * a TCP reset (iptables `REJECT --reject-with tcp-reset` inside the
   * namespace, on those connections' ports only, so reconnects pass);
   * resolves with how many connections that covers. `unreset` removes the rules.
   */
  reset(): Promise<number>;
  unreset(): Promise<void>;
}

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

/** Removes namespaces of ours whose test process is gone. */
async function removeStale(): Promise<void> {
  const { stdout } = await run('ip', ['netns', 'list']);
  for (const line of stdout.split('\n')) {
    const name = line.split(' ')[0]!;
    const pid = Number(/^shardcache-(\d+)-\d+$/.exec(name)?.[1]);
    if (!pid) continue;
    try {
      process.kill(pid, 0);
    } catch {
      await ip('netns', 'del', name).catch(() => undefined);
    }
  }
}

/** Starts redis-server in a new namespace behind a veth pair, and the delay relay in front of it. */
export async function startNetnsRedis(t: Teardown): Promise<NetnsRedis> {
  await removeStale();
  const n = created++;
  const namespace = `${PREFIX}${process.pid}-${n}`;
  // Interface names: at most 15 bytes.
  const hostEnd = `sch${process.pid % 1e7}${n}`;
  const nsEnd = `scn${process.pid % 1e7}${n}`;
  // A /30 of 10.200.0.0/14 picked from the pid: two test processes at once do not share one.
  const net = (process.pid * 8 + n * 4) % (1 << 18);
  const base = `10.${200 + (net >> 16)}.${(net >> 8) & 255}.${net & 252}`;
  const [a, b, c] = base.split('.');
  const hostIp = `${a}.${b}.${c}.${(net & 252) + 1}`;
  const nsIp = `${a}.${b}.${c}.${(net & 252) + 2}`;
  const dir = mkdtempSync(join(tmpdir(), 'shardcache-netns-'));
  const children: ChildProcess[] = [];
  t.teardown(async () => {
    for (const child of children.reverse()) await stopProcess(child);
    await ip('netns', 'del', namespace).catch(() => undefined);
    await ip('link', 'del', hostEnd).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  await ip('netns', 'add', namespace);
  await ip('link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', nsEnd);
  await ip('link', 'set', nsEnd, 'netns', namespace);
  await ip('addr', 'add', `${hostIp}/30`, 'dev', hostEnd);
  await ip('link', 'set', hostEnd, 'up');
  await ip('-n', namespace, 'addr', 'add', `${nsIp}/30`, 'dev', nsEnd);
  await ip('-n', namespace, 'link', 'set', nsEnd, 'up');
  await ip('-n', namespace, 'link', 'set', 'lo', 'up');

  const inside = ['ip', 'netns', 'exec', namespace];
  const redisPort = 6379;
  const socket = join(dir, 'redis.sock');
  children.push(
    await spawnRedisServer(redisPort, ['--unixsocket', socket, '--unixsocketperm', '700'], '127.0.0.1', [...inside, 'redis-server'], {
      path: socket,
    }),
  );
  const relayPort = 6380;
  const relay = spawn(
    inside[0]!,
    [...inside.slice(1), process.execPath, join(ROOT, 'dist/test/helpers/delay-relay.js'), nsIp, String(relayPort), String(redisPort)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  children.push(relay);
  await new Promise<void>((resolve, reject) => {
    relay.stdout!.once('data', () => resolve());
    relay.once('exit', (code) => reject(new Error(`the delay relay exited with ${code} (is dist/ built?)`)));
  });
  /** iptables inside the namespace: its chains hold only the rules this helper adds. */
  const iptables = (...args: string[]): Promise<void> => ip('netns', 'exec', namespace, 'iptables', ...args);
  const client = new Redis({ path: socket, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  t.teardown(() => client.disconnect());
  await client.ping();
  return {
    url: `redis://${nsIp}:${relayPort}`,
    client,
    namespace,
    async delay(ms) {
      relay.stdin!.write(`${ms}\n`);
    },
    async loss(percent) {
      // The namespace's own OUTPUT chain holds nothing else: flushing it removes the previous rule.
      await iptables('-F', 'OUTPUT');
      if (percent > 0)
        await iptables(
          '-A',
          'OUTPUT',
          '-o',
          nsEnd,
          '-m',
          'statistic',
          '--mode',
          'random',
          '--probability',
          String(percent / 100),
          '-j',
          'DROP',
        );
    },
    async cut() {
      await ip('-n', namespace, 'link', 'set', nsEnd, 'down');
    },
    async restore() {
      await ip('-n', namespace, 'link', 'set', nsEnd, 'up');
    },
    async reset() {
      const { stdout } = await run('ss', ['-Htn', 'state', 'established', 'dst', `${nsIp}:${relayPort}`]);
      const ports = stdout
        .split('\n')
        .map((l) => /:(\d+)\s+\S+:\d+\s*$/.exec(l.trim())?.[1])
        .filter((p): p is string => p !== undefined);
      for (const port of ports)
        await iptables(
          '-A',
          'INPUT',
          '-p',
          'tcp',
          '--sport',
          port,
          '--dport',
          String(relayPort),
          '-j',
          'REJECT',
          '--reject-with',
          'tcp-reset',
        );
      return ports.length;
    },
    async unreset() {
      // The namespace's own INPUT chain holds only these rules.
      await iptables('-F', 'INPUT');
    },
  };
}
