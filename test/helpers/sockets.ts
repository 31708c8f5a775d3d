/**
 * Thousands of raw TCP clients for burst tests: open them all first (a few
 * hundred at a time, so that the listen backlog never drops a SYN and a
 * retransmission a second later never spreads the burst), then write one
 * request on each in a single loop, so that they reach the proxy together,
 * and read each answer with a minimal HTTP/1.1 response parser.
 */
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { sleep } from './time.js';
import { scrape, total } from './metrics.js';
import type { Proxy } from './processes.js';

/** One answer: status, Retry-After, body, and when it arrived (ms after the requests were written). */
export interface RawAnswer {
  status: number;
  retryAfter: string | undefined;
  body: string;
  ms: number;
}

/** Opens `n` connections to `url`'s host and port, `step` at a time; each is connected when this resolves. */
export async function openMany(url: string, n: number, step = 250): Promise<net.Socket[]> {
  const { hostname, port } = new URL(url);
  const sockets: net.Socket[] = [];
  for (let i = 0; i < n; i += step) {
    const wave = Array.from({ length: Math.min(step, n - i) }, () => {
      const socket = net.connect({ host: hostname, port: Number(port), noDelay: true });
      sockets.push(socket);
      return new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('error', reject);
      });
    });
    await Promise.all(wave);
  }
  return sockets;
}

/** Destroys every socket (a test's teardown). */
export function closeAll(sockets: readonly net.Socket[]): void {
  for (const s of sockets) s.destroy();
}

/** Writes `GET path(i)` on socket i, all in one loop; socket i's answer is promise i. */
export function getEach(sockets: readonly net.Socket[], path: (i: number) => string): Promise<RawAnswer>[] {
  const requests = sockets.map((_, i) => Buffer.from(`GET ${path(i)} HTTP/1.1\r\nHost: x\r\n\r\n`, 'latin1'));
  const answers = sockets.map((socket) => answerOf(socket));
  const sent = performance.now();
  for (let i = 0; i < sockets.length; i++) sockets[i]!.write(requests[i]!);
  return answers.map((a) => a.then((r) => ({ status: r.status, retryAfter: r.retryAfter, body: r.body, ms: r.at - sent })));
}

/** `getEach`, resolved with every answer, in socket order. */
export function getAll(sockets: readonly net.Socket[], path: (i: number) => string): Promise<RawAnswer[]> {
  return Promise.all(getEach(sockets, path));
}

/** The next HTTP response on `socket`, and when its last byte arrived. */
function answerOf(socket: net.Socket): Promise<Omit<RawAnswer, 'ms'> & { at: number }> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (d: Buffer): void => {
      got += d.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = got.slice(0, end);
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (got.length < end + 4 + length) return;
      socket.off('data', onData);
      socket.off('error', reject);
      resolve({
        status: Number(head.slice(9, 12)),
        retryAfter: /\r\nretry-after: *([^\r]*)/i.exec(head)?.[1],
        body: got.slice(end + 4, end + 4 + length),
        at: performance.now(),
      });
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

/** A process's resident set now and at its peak since it started (VmRSS, VmHWM), in MiB. */
export function residentMiB(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) / 1024;
  return { now: kib('VmRSS'), peak: kib('VmHWM') };
}

/** The connections of a burst test: `sockets`, and one more, `probe`, whose first answer (for `path`) is `first`. */
export interface Crowd {
  probe: net.Socket;
  sockets: net.Socket[];
  first: RawAnswer;
}

/**
 * Opens `probe` and reads `path` over it (to cache a key, say), then `n`
 * more connections, and resolves once the proxy counts them all open, so
 * that a burst written on them is not held in the listen backlog. Every
 * socket is destroyed in `t`'s teardown.
 */
export async function crowd(t: { teardown(fn: () => unknown): void }, proxy: Proxy, n: number, path: string): Promise<Crowd> {
  const [probe] = await openMany(proxy.url, 1);
  t.teardown(() => probe!.destroy());
  const [first] = await getAll([probe!], () => path);
  const sockets = await openMany(proxy.url, n);
  t.teardown(() => closeAll(sockets));
  for (let i = 0; total(await scrape(proxy.admin), 'shardcache_acceptor_connections', { protocol: 'http' }) < n + 1; i++) {
    if (i === 400) throw new Error(`the proxy never counted ${n + 1} connections open`);
    await sleep(25);
  }
  return { probe: probe!, sockets, first: first! };
}
