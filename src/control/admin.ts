/**
 * The admin listener (ADMIN_PORT): `/metrics` for Prometheus, `/healthz`
 * (the process answers) and `/readyz` (every shard up and reaching Redis, and
 * not stopping). Kept off the data port so that scrapes and probes never
 * compete with, or get shed with, client traffic.
 *
 * With SHARDCACHE_TEST_HOOKS=1 only, `POST /test/kill-shard/<i>` makes shard
 * i's worker die as a bug would, for fault tests.
 */
import http from 'node:http';
import type { Registry } from 'prom-client';
import { Stat } from '../metrics/shard-stats.js';
import type { RedisMode } from '../shard/endpoints.js';

/** What the admin listener reports on, and the test hook when enabled. */
export interface AdminOptions {
  registry: Registry;
  /** Why the proxy is not ready; empty when it is. */
  notReady: () => string[];
  /** What is down although the proxy can serve (a cluster master); said after `ready`. */
  degraded?: () => string[];
  shards: number;
  /** The test hook; absent unless SHARDCACHE_TEST_HOOKS=1. */
  killShard?: (i: number) => Promise<void>;
}

/** Creates (does not start) the admin HTTP server. */
export function createAdminServer(options: AdminOptions): http.Server {
  return http.createServer((req, res) => {
    route(options, req, res).catch((err: Error) => reply(res, 500, `error: ${err.message}`));
  });
}

async function route(o: AdminOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const path = req.url!.split('?', 1)[0]!;
  const kill = /^\/test\/kill-shard\/(\d+)$/.exec(path);
  if (kill !== null && o.killShard !== undefined) {
    if (req.method !== 'POST') return reply(res, 405, 'use POST', ['Allow', 'POST']);
    const shard = Number(kill[1]);
    if (shard >= o.shards) return reply(res, 400, `no shard ${shard}: SHARDS is ${o.shards}`);
    await o.killShard(shard);
    return reply(res, 200, `shard ${shard} killed`);
  }
  if (path !== '/metrics' && path !== '/healthz' && path !== '/readyz') return reply(res, 404, 'not found: try /metrics, /healthz or /readyz');
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'only GET and HEAD', ['Allow', 'GET, HEAD']);
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

function reply(res: http.ServerResponse, status: number, text: string, extra: string[] = []): void {
  const body = Buffer.from(`${text}\n`);
  res.writeHead(status, ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(body.length), ...extra]);
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

const DOWN: Record<RedisMode, string> = { standalone: 'redis down', sentinel: 'redis down (no master reached through the sentinels)', cluster: 'redis cluster unreachable' };

/** Readiness problems of the shards: one being replaced, or without a ready Redis connection (a cluster: without a ready cluster client). */
export function shardProblems(dispatcher: { attached(i: number): boolean; shards: number }, stats: readonly Float64Array[], mode: RedisMode = 'standalone'): string[] {
  const problems: string[] = [];
  for (let i = 0; i < dispatcher.shards; i++) {
    if (!dispatcher.attached(i)) problems.push(`shard ${i} restarting`);
    else if (stats[i]![Stat.RedisUp] !== 1) problems.push(`shard ${i}: ${DOWN[mode]}`);
  }
  return problems;
}

/**
 * Cluster masters a shard cannot reach while the cluster client as a whole
 * is up: the keys of their slots answer 503 until a replica takes over, the
 * others are served. Not a readiness failure, since every proxy in front of
 * the cluster sees the same, and taking them all out of service would turn a
 * partial outage into a whole one.
 */
export function shardDegraded(stats: readonly Float64Array[]): string[] {
  const notes: string[] = [];
  stats.forEach((s, i) => {
    if (s[Stat.RedisUp] === 1 && s[Stat.RedisNodesUp]! < s[Stat.RedisNodes]!) notes.push(`shard ${i}: ${s[Stat.RedisNodes]! - s[Stat.RedisNodesUp]!} of ${s[Stat.RedisNodes]} cluster masters unreachable`);
  });
  return notes;
}
