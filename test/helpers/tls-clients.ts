/**
 * The clients a TLS listener must serve, each run as users run it: curl,
 * redis-cli --tls, redis-py (Debian's, under /usr/bin/python3) with
 * ssl=True, ioredis with `tls`, and undici with a CA. `Identity` says which
 * CA the client trusts and which certificate, if any, it presents.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { Agent } from 'undici';
import type { CertPair } from './certs.js';

const run = promisify(execFile);

/** The CA a client trusts (PEM path) and the client certificate it presents, if any. */
export interface Identity {
  ca: string;
  client?: CertPair | undefined;
}

/** What a command-line client printed, and its exit code (0 when it succeeded). */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `file` with `args` to its end (15 s at most); a failure is a non-zero `code`, not a rejection. */
export async function runCommand(file: string, args: string[]): Promise<Ran> {
  try {
    const { stdout, stderr } = await run(file, args, { timeout: 15000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as Error & { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message };
  }
}

/** `curl -sS` against `url` (with `args`: -I, …), trusting `id.ca` and presenting `id.client`. */
export function curl(url: string, id: Identity, args: string[] = []): Promise<Ran> {
  const cert = id.client ? ['--cert', id.client.cert, '--key', id.client.key] : [];
  return runCommand('curl', ['-sS', '--max-time', '10', '--cacert', id.ca, ...cert, ...args, url]);
}

/** `redis-cli --tls` against 127.0.0.1:`port`, one command. */
export function redisCli(port: number, id: Identity, ...command: string[]): Promise<Ran> {
  const cert = id.client ? ['--cert', id.client.cert, '--key', id.client.key] : [];
  return runCommand('redis-cli', ['--tls', '--cacert', id.ca, ...cert, '-h', '127.0.0.1', '-p', String(port), ...command]);
}

const PY = `
import sys, redis
port, ca, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3] or None, sys.argv[4] or None
r = redis.Redis(host='127.0.0.1', port=port, ssl=True, ssl_ca_certs=ca, ssl_certfile=cert, ssl_keyfile=key, socket_timeout=10)
print(repr(r.get(sys.argv[5])), repr(r.mget(sys.argv[5:])))
`;

/** redis-py's GET and MGET of `keys` over TLS, printed as Python reprs (`b'value' [b'value', None]`). */
export function redisPy(port: number, id: Identity, ...keys: string[]): Promise<Ran> {
  return runCommand('/usr/bin/python3', ['-c', PY, String(port), id.ca, id.client?.cert ?? '', id.client?.key ?? '', ...keys]);
}

/** The `tls` options of a Node client (ioredis, tls.connect, undici's `connect`). */
export function tlsOptions(id: Identity): { ca: Buffer; cert?: Buffer; key?: Buffer } {
  const ca = readFileSync(id.ca);
  return id.client ? { ca, cert: readFileSync(id.client.cert), key: readFileSync(id.client.key) } : { ca };
}

/** An ioredis client over TLS that does not retry (a refusal shows at once); disconnected in `t`'s teardown. */
export function ioredis(t: { teardown(fn: () => unknown): void }, port: number, id: Identity): Redis {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    tls: tlsOptions(id),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  t.teardown(() => client.disconnect());
  return client;
}

/** An undici agent over TLS (keep-alive, `connections` at most); closed in `t`'s teardown unless the test closed it. */
export function httpsAgent(t: { teardown(fn: () => unknown): void }, id: Identity, connections = 16): Agent {
  const agent = new Agent({ connections, pipelining: 1, connect: tlsOptions(id) });
  t.teardown(() => (agent.closed ? undefined : agent.close()));
  return agent;
}
