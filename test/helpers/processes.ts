/**
 * Real processes for tests: a private redis-server on a free port and the
 * built proxy started exactly as `npm start` starts it (`node
 * dist/src/main.js`). Each is stopped by its pid in the test's teardown,
 * whether the test passed or not.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { sleep } from './time.js';

/** The repository root: the nearest folder above this file with a package.json (this file also runs compiled, from dist/). */
export const ROOT = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
})();

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Stops `child` by its pid: SIGTERM, then SIGKILL if it lingers. */
export async function stopProcess(child: ChildProcess, graceMs = 5000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  process.kill(child.pid!, 'SIGTERM');
  const timer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), graceMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

export interface RedisServer {
  port: number;
  /** The server process's pid (it changes with `restart`). */
  readonly pid: number;
  url: string;
  /** A client of this server for setting data up and reading INFO. */
  client: Redis;
  stop(): Promise<void>;
  /** Kills the server with SIGKILL (no clean shutdown) and waits for it to be gone. */
  kill(): Promise<void>;
  /** Starts the server again on the same port after `stop`. */
  restart(): Promise<void>;
  /**
   * Blocks the server for `seconds` (DEBUG SLEEP) from a connection that is
   * already open, so the block starts at once; resolves when the block has
   * begun, with `done`, a promise of its end.
   */
  hold(t: Teardown, seconds: number): Promise<{ done: Promise<unknown> }>;
}

/** Starts a private redis-server (from PATH) on a free port. */
export async function startRedis(t: Teardown): Promise<RedisServer> {
  const port = await freePort();
  let child = await spawnRedis(port);
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  await client.connect();
  const server: RedisServer = {
    port,
    get pid() {
      return child.pid!;
    },
    url: `redis://127.0.0.1:${port}`,
    client,
    async stop() {
      await stopProcess(child);
    },
    async kill() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(child.pid!, 'SIGKILL');
      await exited;
    },
    async restart() {
      child = await spawnRedis(port);
    },
    async hold(t, seconds) {
      const sleeper = client.duplicate();
      t.teardown(() => sleeper.disconnect());
      await sleeper.ping();
      const sleeping = sleeper.call('DEBUG', 'SLEEP', String(seconds));
      // The command is written at once on the open connection; give Redis a
      // moment to read it before anything else arrives.
      await sleep(30);
      return { done: sleeping };
    },
  };
  t.teardown(async () => {
    client.disconnect();
    await stopProcess(child);
  });
  return server;
}

function spawnRedis(port: number): Promise<ChildProcess> {
  return spawnRedisServer(port, []);
}

/**
 * Starts `redis-server` on 127.0.0.1:`port` (or `host`) with the test
 * defaults (no persistence, DEBUG allowed) and `extra` arguments, and waits
 * until it answers PING (over the unix socket `via`, when given). `command`
 * runs it another way (inside a network namespace: `['ip', 'netns', 'exec',
 * name, 'redis-server']`).
 */
export async function spawnRedisServer(
  port: number,
  extra: readonly string[],
  host = '127.0.0.1',
  command: readonly string[] = ['redis-server'],
  via?: { path: string },
): Promise<ChildProcess> {
  const args = [
    '--port',
    String(port),
    '--bind',
    host,
    '--save',
    '',
    '--appendonly',
    'no',
    '--loglevel',
    'warning',
    '--enable-debug-command',
    'yes',
    ...extra,
  ];
  const child = spawn(command[0]!, [...command.slice(1), ...args], { stdio: 'ignore' });
  const deadline = Date.now() + 10000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} (is it on PATH?)`);
    if (await answersPing(via ?? { port, host })) return child;
    if (Date.now() > deadline) {
      await stopProcess(child);
      throw new Error(`redis-server did not answer on ${host}:${port}`);
    }
    await sleep(25);
  }
}

/** The last `lines` lines of a server's log file, for an error message. */
export function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function answersPing(where: net.NetConnectOpts): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(where);
    socket.once('error', () => resolve(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
  });
}

export interface Proxy {
  url: string;
  /** The RESP listener's port, when RESP_PORT was given. */
  respPort: number | undefined;
  /** The admin listener: /metrics, /healthz, /readyz. */
  admin: string;
  child: ChildProcess;
  /** Everything the proxy wrote to stderr so far. */
  logs(): string;
  stop(): Promise<number | null>;
}

/**
 * Starts the built proxy with `env` on free ports and waits until it
 * listens (admin port included; its RESP port too when `env.RESP_PORT` is set; `'0'` picks a
 * free one).
 */
export function startProxy(t: Teardown, env: Record<string, string>, args: string[] = [], wrapper: readonly string[] = []): Promise<Proxy> {
  return startNode(t, 'dist/src/main.js', { ADMIN_PORT: '0', ...env }, args, wrapper);
}

/**
 * Starts a Node script of this repo with `PORT=0` and waits for the line
 * `listening on http://…` that the proxy and the benchmark servers print.
 * A `wrapper` command that execs what follows it (`prlimit --nofile=…`)
 * runs it instead, with the same pid.
 */
export async function startNode(
  t: Teardown,
  script: string,
  env: Record<string, string>,
  args: string[] = [],
  wrapper: readonly string[] = [],
): Promise<Proxy> {
  const command = [...wrapper, process.execPath, script, ...args];
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', ADMIN_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.resume();
  t.teardown(() => stopProcess(child));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start:\n${stderr}`)), 15000);
    const onData = (): void => {
      const m = /(?<!admin )listening on (https?:\/\/[^\s"]+)/.exec(stderr);
      if (m === null) return;
      if (env.ADMIN_PORT !== undefined && env.ADMIN_PORT !== 'off' && !/admin listening on/.test(stderr)) return;
      if (env.RESP_PORT !== undefined && env.RESP_PORT !== 'off' && !/RESP listening on/.test(stderr)) return;
      clearTimeout(timer);
      child.stderr!.off('data', onData);
      resolve(m[1]!);
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}:\n${stderr}`));
    });
  });
  const resp = /RESP listening on rediss?:\/\/[^\s"]+:(\d+)/.exec(stderr);
  const admin = /admin listening on (https?:\/\/[^\s"]+)/.exec(stderr);
  return {
    url,
    respPort: resp ? Number(resp[1]) : undefined,
    admin: admin ? admin[1]! : '',
    child,
    logs: () => stderr,
    stop: () => stopProcess(child),
  };
}

/** Runs the built proxy to completion (for start-up errors and --help). */
export function runProxy(
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['dist/src/main.js', ...args], {
      cwd: ROOT,
      env: { ...process.env, ADMIN_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => process.kill(child.pid!, 'SIGKILL'), 15000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
