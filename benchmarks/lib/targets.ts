/**
 * The servers a benchmark drives: shardcache and its variants, the Node
 * baselines, and the C peers (webdis, Varnish in front of webdis). Each
 * starts bound to 127.0.0.1 on a free port and is stopped by its pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startNode, stopProcess } from '../../test/helpers/processes.js';
import { sleep } from '../../test/helpers/time.js';

/** How a target names a key in its URL. */
export type PathStyle = 'plain' | 'webdis';

export interface Running {
  url: string;
  style: PathStyle;
  /** The server's processes (their children are counted too), for CPU per request by thread. */
  pids: number[];
  /** Headers every request must carry (a credential); absent: none. */
  headers?: Record<string, string>;
  stop(): Promise<void>;
}

export interface Target {
  /** Name in the results table. */
  name: string;
  /** The eviction policy it runs (EVICTION), for the offline simulation beside its hit ratio; default LRU. */
  eviction?: 'lru' | 'tinylfu';
  start(env: BenchEnv): Promise<Running>;
}

/** What every target of a run shares. */
export interface BenchEnv {
  redisUrl: string;
  redisPort: number;
  /** Cache capacity in keys for the caching targets. */
  capacity: number;
  ttlMs: number;
  /** Value size, for the bare ceiling's fixed body. */
  valueBytes: number;
  /** Varnish storage, e.g. "256m". */
  varnishStorage: string;
}

/** Where a start helper registers how to stop what it started (a `Stoppers`, or a benchmark's own list). */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Collects the teardowns of the processes a target starts. */
export class Stoppers implements Teardown {
  readonly #fns: (() => unknown)[] = [];
  teardown(fn: () => unknown): void {
    this.#fns.push(fn);
  }
  async run(): Promise<void> {
    for (const fn of this.#fns.reverse()) await fn();
  }
}

function node(name: string, script: string, extraEnv: Record<string, string> = {}): Target {
  return {
    name,
    start: (e) => {
      const stoppers = new Stoppers();
      const env = {
        REDIS_URL: e.redisUrl,
        CACHE_CAPACITY: String(e.capacity),
        CACHE_TTL_MS: String(e.ttlMs),
        BODY_BYTES: String(e.valueBytes),
        ...extraEnv,
      };
      return starting(stoppers, async () => {
        const proc = await startNode(stoppers, script, env);
        return { url: proc.url, style: 'plain', pids: [proc.child.pid!], stop: () => stoppers.run() };
      });
    },
  };
}

/** shardcache as `npm start` runs it, with `shards` shards (undefined: its default). */
export function shardcache(shards?: number, extra: Record<string, string> = {}, name?: string): Target {
  const target = node(name ?? (shards === undefined ? 'shardcache' : `shardcache SHARDS=${shards}`), 'dist/src/main.js', {
    ...shardsEnv(shards),
    ...extra,
  });
  return extra.EVICTION === 'tinylfu' ? { ...target, eviction: 'tinylfu' } : target;
}

/** Another build of shardcache, started from its `main.js` (an absolute path), named `name`. */
export function shardcacheBuild(script: string, name: string): Target {
  return node(name, script);
}

/** shardcache with `acceptors` acceptor threads and `shards` shards. */
export function threads(acceptors: number, shards: number): Target {
  return shardcache(shards, { ACCEPTORS: String(acceptors) }, `shardcache ACCEPTORS=${acceptors} SHARDS=${shards}`);
}

function shardsEnv(shards: number | undefined): Record<string, string> {
  return shards === undefined ? {} : { SHARDS: String(shards) };
}

export const bare = node('node:http bare (ceiling)', 'dist/benchmarks/servers/bare.js');
export const nodeLru = node('node:http + lru-cache + ioredis', 'dist/benchmarks/servers/node-lru.js');
export function perTask(shards?: number): Target {
  return node(
    `piscina task per request${shards === undefined ? '' : ` SHARDS=${shards}`}`,
    'dist/benchmarks/servers/per-task.js',
    shardsEnv(shards),
  );
}

/** Resolves once `port` accepts connections; rejects if `child` exits first or 10 s pass. */
export async function waitForPort(port: number, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`${what} did not listen on ${port}`);
}

async function startWebdis(e: BenchEnv, stoppers: Teardown): Promise<{ port: number; pid: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'webdis-'));
  stoppers.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const config = {
    redis_host: '127.0.0.1',
    redis_port: e.redisPort,
    http_host: '127.0.0.1',
    http_port: port,
    threads: 2,
    pool_size: 8,
    daemonize: false,
    database: 0,
    verbosity: 0,
    logfile: join(dir, 'webdis.log'),
  };
  writeFileSync(join(dir, 'webdis.json'), JSON.stringify(config));
  const child = spawn('webdis', [join(dir, 'webdis.json')], { stdio: 'ignore' });
  stoppers.teardown(() => stopProcess(child));
  await waitForPort(port, child, 'webdis');
  return { port, pid: child.pid! };
}

/** webdis: C, HTTP → Redis, no cache. `GET /GET/<key>.txt` answers the raw value. */
export const webdis: Target = {
  name: 'webdis (C, no cache)',
  start: (e) => {
    const stoppers = new Stoppers();
    return starting(stoppers, async () => {
      const { port, pid } = await startWebdis(e, stoppers);
      return { url: `http://127.0.0.1:${port}`, style: 'webdis', pids: [pid], stop: () => stoppers.run() };
    });
  },
};

/** Runs `start`; if it throws, stops whatever it had already started. */
export async function starting(stoppers: Stoppers, start: () => Promise<Running>): Promise<Running> {
  try {
    return await start();
  } catch (err) {
    await stoppers.run();
    throw err;
  }
}

/**
 * varnishd (malloc storage of `e.varnishStorage`, TTL as shardcache's) in
 * front of a webdis of its own. Exported apart from the target because the
 * memory benchmark needs its `-n` directory, which varnishstat reads.
 * `pid` is the manager's; the cache child that serves is its child process.
 */
export async function startVarnish(e: BenchEnv, stoppers: Teardown): Promise<{ port: number; pid: number; dir: string }> {
  const backend = await startWebdis(e, stoppers);
  const dir = mkdtempSync(join(tmpdir(), 'varnish-'));
  // varnishd's compiler runs as its own unprivileged user and writes here.
  chmodSync(dir, 0o755);
  stoppers.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const args = [
    '-F',
    '-a',
    `127.0.0.1:${port}`,
    '-b',
    `127.0.0.1:${backend.port}`,
    '-n',
    dir,
    '-s',
    `malloc,${e.varnishStorage}`,
    '-t',
    String(Math.ceil(e.ttlMs / 1000)),
    '-p',
    'thread_pools=2',
  ];
  const child = spawn('varnishd', args, { stdio: 'ignore' });
  stoppers.teardown(() => stopProcess(child));
  await waitForPort(port, child, 'varnishd');
  return { port, pid: child.pid!, dir };
}

/** Varnish (malloc storage, TTL as shardcache's) in front of webdis: the C HTTP cache. */
export const varnish: Target = {
  name: 'Varnish + webdis (C)',
  start: (e) => {
    const stoppers = new Stoppers();
    return starting(stoppers, async () => {
      const { port, pid } = await startVarnish(e, stoppers);
      // varnishd's manager and its cache child (found through /proc) serve hits; webdis is not asked then.
      return { url: `http://127.0.0.1:${port}`, style: 'webdis', pids: [pid], stop: () => stoppers.run() };
    });
  },
};
