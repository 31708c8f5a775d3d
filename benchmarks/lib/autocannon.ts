/**
 * The fallback load generator, for machines without wrk: autocannon, with
 * the same inputs and the same result shape as `runWrk`. It runs inside the
 * benchmark's own Node process and costs more CPU than wrk, so a run says
 * which generator it used and never mixes the two.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import type { LoadOptions, LoadResult } from './wrk.js';

export async function runAutocannon(o: LoadOptions): Promise<LoadResult> {
  const paths = readFileSync(o.pathsFile, 'utf8').split('\n').filter(Boolean);
  const r = await autocannon({
    url: o.url,
    connections: o.connections,
    duration: o.seconds,
    requests: paths.map((path) => ({ method: 'GET' as const, path })),
    ...(o.headers ? { headers: o.headers } : {}),
    ...(o.pauseMs ? { connectionRate: 1000 / o.pauseMs } : {}),
  });
  return {
    rps: r.requests.total / r.duration,
    requests: r.requests.total,
    errors: r.errors + r.non2xx + r.timeouts,
    p50Ms: r.latency.p50,
    p90Ms: r.latency.p90,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
  };
}
