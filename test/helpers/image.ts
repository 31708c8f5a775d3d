/**
 * The container image, built and started with podman as a user of the
 * Dockerfile would, for test/image.test.ts. Docker Hub cannot be reached
 * here, so the image is built FROM a stand-in for node:24-slim
 * (test/image/standin-base.sh: Debian bookworm minbase, the project's Node 24,
 * npm, a `node` user), never from the real one. Both are cached by content:
 * the stand-in by its tag's hash, the Dockerfile's steps by podman's layer
 * cache. podman runs with test/image/containers.conf (runc, cgroupfs, no
 * ulimits: what this sandbox allows). Each container the test starts is
 * removed in teardown by its name, and the `podman run` client stopped by pid.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, stopProcess } from './processes.js';
import { sleep } from './time.js';

const run = promisify(execFile);

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** The environment podman runs in: the test's own containers.conf. */
export const PODMAN_ENV = { ...process.env, CONTAINERS_CONF: join(ROOT, 'test/image/containers.conf') };
/**
 * The tag the test gives the image it builds, for a person to look at; the
 * test itself runs the image by its id, which a build elsewhere at the same
 * time (another work tree) cannot move.
 */
export const IMAGE = 'localhost/shardcache:image-test';
/** What a machine without the tools must install: the test fails naming it, never skips. */
export const INSTALL = 'apt-get install podman mmdebstrap runc';

/** Runs podman with `args`; resolves with its stdout. */
export async function podman(args: readonly string[], timeoutMs = 30000): Promise<string> {
  const { stdout } = await run('podman', args, { env: PODMAN_ENV, timeout: timeoutMs, maxBuffer: 64 << 20 });
  return stdout;
}

/** The tools the image test needs that are not on PATH. */
export async function missingTools(): Promise<string[]> {
  const missing: string[] = [];
  for (const tool of ['podman', 'mmdebstrap', 'runc']) {
    await run('sh', ['-c', `command -v ${tool}`]).catch(() => missing.push(tool));
  }
  return missing;
}

export interface Built {
  /** The image's id, as `podman build --iidfile` wrote it. */
  id: string;
  /** The stand-in base's tag. */
  base: string;
  /** Seconds spent on the stand-in (about 0 when reused) and on `podman build`. */
  baseSeconds: number;
  buildSeconds: number;
  /** Whether the stand-in was built now rather than reused. */
  baseBuilt: boolean;
  /** Bytes, as `podman image inspect` reports them, of the image and of the base under it. */
  size: number;
  baseSize: number;
  /** The last lines of the build's output, to quote on failure. */
  log: string;
}

/** Removes stale test containers, builds the stand-in base (if its hash is new), then the Dockerfile FROM it. */
export async function buildImage(): Promise<Built> {
  await removeStale();
  let started = performance.now();
  const standin = await run('bash', [join(ROOT, 'test/image/standin-base.sh')], { env: PODMAN_ENV, timeout: 240000, maxBuffer: 64 << 20 });
  const base = standin.stdout.trim().split('\n').pop()!;
  const baseSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  const iidfile = join(tmpdir(), `shardcache-image-${process.pid}.iid`);
  // --format docker: the OCI format has no HEALTHCHECK, and podman drops it.
  // The CA bundle reaches npm inside the build as a secret (see the Dockerfile).
  const build = await run(
    'podman',
    [
      'build',
      '--format',
      'docker',
      '--layers',
      '--build-arg',
      `NODE_IMAGE=${base}`,
      '--secret',
      'id=npm-ca,src=/etc/ssl/certs/ca-certificates.crt',
      '--iidfile',
      iidfile,
      '-t',
      IMAGE,
      ROOT,
    ],
    { env: PODMAN_ENV, timeout: 300000, maxBuffer: 64 << 20 },
  );
  const buildSeconds = (performance.now() - started) / 1000;
  const id = readFileSync(iidfile, 'utf8').trim();
  rmSync(iidfile);
  const size = (tag: string): Promise<number> => podman(['image', 'inspect', '--format', '{{.Size}}', tag]).then(Number);
  return {
    id,
    base,
    baseSeconds,
    buildSeconds,
    baseBuilt: /building/.test(standin.stderr),
    size: await size(id),
    baseSize: await size(base),
    log: build.stdout.split('\n').slice(-30).join('\n'),
  };
}

export interface Container {
  name: string;
  /** The `podman run` client, attached: its exit code is the container's. */
  child: ChildProcess;
  /** Everything the container wrote so far (the proxy logs on stderr). */
  logs(): string;
  /** Resolves with the container's exit code. */
  exited: Promise<number | null>;
}

let count = 0;
const PREFIX = 'shardcache-image-test-';

/** Removes the containers of image test processes that no longer run (killed before their teardown). */
export async function removeStale(): Promise<void> {
  const names = (await podman(['ps', '--all', '--filter', `name=^${PREFIX}`, '--format', '{{.Names}}']))
    .split('\n')
    .filter((n) => n !== '');
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const stale = names.filter((n) => !alive(Number(n.slice(PREFIX.length).split('-')[0])));
  if (stale.length > 0) await podman(['rm', '--force', '--time', '2', ...stale]);
}

/**
 * Starts the image `id` on the host network with `env` and `extra` podman run
 * options, and waits until `ready` matches its log (fails after 20 s, or at
 * once if it exits).
 */
export async function runContainer(
  t: Teardown,
  id: string,
  env: Record<string, string>,
  ready: RegExp,
  extra: readonly string[] = [],
): Promise<Container> {
  const name = `${PREFIX}${process.pid}-${count++}`;
  const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  const child = spawn('podman', ['run', '--name', name, '--network', 'host', ...envArgs, ...extra, id], {
    env: PODMAN_ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const add = (d: Buffer): void => {
    output += d.toString();
  };
  child.stdout.on('data', add);
  child.stderr.on('data', add);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(async () => {
    await run('podman', ['rm', '--force', '--time', '2', name], { env: PODMAN_ENV }).catch(() => {});
    await stopProcess(child);
  });
  const deadline = Date.now() + 20000;
  while (!ready.test(output)) {
    if (child.exitCode !== null) throw new Error(`container ${name} exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`container ${name} not ready after 20 s:\n${output}`);
    await sleep(50);
  }
  return { name, child, logs: () => output, exited };
}

/** `podman healthcheck run`: resolves with its exit code and the state podman recorded. */
export async function healthcheck(name: string): Promise<{ code: number; status: string }> {
  const code = await podman(['healthcheck', 'run', name]).then(
    () => 0,
    (err: { code?: number }) => err.code ?? -1,
  );
  const status = (await podman(['inspect', '--format', '{{.State.Health.Status}}', name])).trim();
  return { code, status };
}
