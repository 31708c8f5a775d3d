/**
 * The admin listener (ADMIN_PORT): the status page (`/`) and its snapshot
 * (`/stats.json`), `/metrics` for Prometheus, `/healthz` (the process
 * answers) and `/readyz` (every acceptor listening, every shard up and
 * reaching Redis, and not stopping). Kept off the data port, on the main
 * thread, so that scrapes, probes and pages never compete with, or get shed
 * with, client traffic.
 *
 * With ACCESS_FILE set, every route but `/healthz` and `/readyz` (which
 * probes reach without credentials, and which say nothing about the data)
 * needs a credential with `"admin": true`: 401 without one, 403 for another.
 *
 * With SHARDCACHE_TEST_HOOKS=1 only, `POST /test/kill-shard/<i>` and
 * `POST /test/kill-acceptor/<i>` make that thread die as a bug would, for
 * fault tests.
 */
import http from 'node:http';
import https from 'node:https';
import type { Registry } from 'prom-client';
import { serverTlsOptions, type TlsMaterial } from '../tls-context.js';
import type { AccessList } from '../access/access-list.js';
import { credentialOf } from '../access/authorization.js';
import { STATUS_CSP, statusPage } from './status-page.js';
import type { StatsSnapshot } from './stats-snapshot.js';

/** What the admin listener reports on, and the test hooks when enabled. */
export interface AdminOptions {
  registry: Registry;
  /** The figures of the moment, for the status page. */
  snapshot: () => StatsSnapshot;
  /** The same as `/stats.json` text (built at most a few times a second). */
  snapshotJson: () => string;
  /** Why the proxy is not ready; empty when it is. */
  notReady: () => string[];
  /** What is down although the proxy can serve (a cluster master); said after `ready`. */
  degraded?: () => string[];
  shards: number;
  acceptors: number;
  /** ACCESS_FILE's credentials in force (acceptor 0's, reloaded with it); absent: no credential asked for. */
  access?: AccessList | undefined;
  /** The test hooks; absent unless SHARDCACHE_TEST_HOOKS=1. */
  killShard?: (i: number) => Promise<void>;
  killAcceptor?: (i: number) => Promise<void>;
  /** TLS_CERT_FILE and friends, read: the admin listener speaks HTTPS, with the data port's certificate. */
  tls?: TlsMaterial | undefined;
}

const ROUTES = new Set(['/', '/stats.json', '/metrics', '/healthz', '/readyz']);

/** Creates (does not start) the admin HTTP server. */
export function createAdminServer(options: AdminOptions): http.Server {
  const handler: http.RequestListener = (req, res) => {
    route(options, req, res).catch((err: Error) => reply(res, 500, `error: ${err.message}`));
  };
  return options.tls === undefined ? http.createServer(handler) : https.createServer(serverTlsOptions(options.tls), handler);
}

async function route(o: AdminOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const path = req.url!.split('?', 1)[0]!;
  if (o.access !== undefined && path !== '/healthz' && path !== '/readyz') {
    const credential = credentialOf(o.access, req.rawHeaders);
    if (credential === undefined)
      return reply(res, 401, 'an admin credential is required: Authorization: Bearer <token> (ACCESS_FILE is set)', [
        'WWW-Authenticate',
        'Bearer realm="shardcache"',
      ]);
    if (!credential.admin) return reply(res, 403, 'this credential is not an admin one ("admin": true in ACCESS_FILE)');
  }
  const kill = /^\/test\/kill-(shard|acceptor)\/(\d+)$/.exec(path);
  const hook = kill === null ? undefined : kill[1] === 'shard' ? o.killShard : o.killAcceptor;
  if (kill !== null && hook !== undefined) {
    if (req.method !== 'POST') return reply(res, 405, 'use POST', ['Allow', 'POST']);
    const what = kill[1]!;
    const i = Number(kill[2]);
    const count = what === 'shard' ? o.shards : o.acceptors;
    // Acceptor 0 is the main thread: killing it is killing the process.
    if (i >= count || (what === 'acceptor' && i === 0))
      return reply(
        res,
        400,
        `no ${what} ${i} to kill: ${what === 'shard' ? 'SHARDS' : 'ACCEPTORS'} is ${count}${what === 'acceptor' ? ' (acceptor 0 is the main thread)' : ''}`,
      );
    await hook(i);
    return reply(res, 200, `${what} ${i} killed`);
  }
  if (!ROUTES.has(path)) return reply(res, 404, 'not found: try / (status page), /stats.json, /metrics, /healthz or /readyz');
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'only GET and HEAD', ['Allow', 'GET, HEAD']);
  if (path === '/') return send(res, 'text/html; charset=utf-8', statusPage(o.snapshot()), ['Content-Security-Policy', STATUS_CSP]);
  if (path === '/stats.json') return send(res, 'application/json', o.snapshotJson());
  if (path === '/metrics') {
    const text = await o.registry.metrics();
    res.writeHead(200, { 'Content-Type': o.registry.contentType, 'Content-Length': Buffer.byteLength(text) });
    res.end(req.method === 'HEAD' ? undefined : text);
    return;
  }
  if (path === '/healthz') return reply(res, 200, 'ok');
  const problems = o.notReady();
  const degraded = o.degraded?.() ?? [];
  const ready = degraded.length === 0 ? 'ready' : `ready, degraded: ${degraded.join('; ')}`;
  reply(res, problems.length === 0 ? 200 : 503, problems.length === 0 ? ready : `not ready: ${problems.join('; ')}`);
}

/** A 200 that is never cached: every read is the figures of the moment. */
function send(res: http.ServerResponse, type: string, text: string, extra: string[] = []): void {
  const body = Buffer.from(text);
  res.writeHead(200, ['Content-Type', type, 'Content-Length', String(body.length), 'Cache-Control', 'no-store', ...extra]);
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function reply(res: http.ServerResponse, status: number, text: string, extra: string[] = []): void {
  const body = Buffer.from(`${text}\n`);
  res.writeHead(status, ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(body.length), ...extra]);
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
