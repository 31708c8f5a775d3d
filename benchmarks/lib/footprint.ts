/**
 * How benchmarks/memory.ts measures: keys streamed through a server with wrk
 * (`sequence.lua`), Redis's `used_memory` per key, the proxy's gauges, and a
 * Node server's RSS after a GC forced through its inspector (`gc.ts`).
 */
import { join } from 'node:path';
import { ROOT, startNode, type Proxy, type RedisServer } from '../../test/helpers/processes.js';
import { sleep } from '../../test/helpers/time.js';
import { forceGc, inspectorUrl, rssOf } from './gc.js';
import { runWrk, type LoadResult } from './wrk.js';

const SEQUENCE = join(ROOT, 'benchmarks/lib/sequence.lua');

export interface Teardowns {
  teardown(fn: () => unknown): void;
}

/** Streams `/<prefix>:<i><suffix>` for i from `start` on (wrapping at `count`) for `seconds`. */
export function stream(url: string, prefix: string, start: number, count: number, seconds: number, suffix = ''): Promise<LoadResult> {
  return runWrk({
    url,
    pathsFile: '',
    connections: 64,
    seconds,
    script: SEQUENCE,
    scriptArgs: [`${prefix}:`, String(start), String(count), suffix],
  });
}

export async function usedMemory(redis: RedisServer): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.client.info('memory'))![1]);
}

/** Redis's memory growth per key for `count` keys of `bytes` B named `<prefix>:<i>`. */
export async function populate(redis: RedisServer, prefix: string, count: number, bytes: number): Promise<number> {
  const before = await usedMemory(redis);
  await redis.client.call('DEBUG', 'POPULATE', String(count), prefix, String(bytes));
  return ((await usedMemory(redis)) - before) / count;
}

/** A gauge of the proxy's metrics, summed over its shards. */
export async function gaugeOf(proxy: Proxy, name: string): Promise<number> {
  const text = await (await fetch(`${proxy.admin}/metrics`)).text();
  let total = 0;
  for (const m of text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'gm'))) total += Number(m[1]);
  return total;
}

export const entriesOf = (proxy: Proxy): Promise<number> => gaugeOf(proxy, 'shardcache_cache_entries');

/** A Node server with its inspector open on a free port (its command line unchanged). */
export function startInspected(t: Teardowns, script: string, env: Record<string, string>): Promise<Proxy> {
  return startNode(t, script, { ...env, NODE_OPTIONS: '--inspect=127.0.0.1:0' });
}

export async function settledRss(server: Proxy): Promise<number> {
  await forceGc(inspectorUrl(server.logs()));
  await sleep(500);
  return rssOf(server.child.pid!);
}

/**
 * Fills `server` with `count` keys `<prefix>:<i>`, after a warm-up on the
 * first 1,000; returns the RSS growth per entry after a forced GC. `entries`
 * reads how many it holds; without it (a server with no metrics), every key
 * streamed counts as held, up to `count`.
 */
export async function footprint(
  server: Proxy,
  prefix: string,
  count: number,
  entries?: () => Promise<number>,
): Promise<{ perEntry: number; entries: number }> {
  await stream(server.url, prefix, 0, 1000, 2);
  let streamed = 1000;
  const held = (): Promise<number> => (entries === undefined ? Promise.resolve(Math.min(count, streamed)) : entries());
  const before = await settledRss(server);
  const first = await held();
  // Each pass streams the keys in order; a pass that leaves some out (wrk stops on time) is followed by another.
  for (let pass = 0; pass < 20 && (await held()) < count; pass++) {
    const r = await stream(server.url, prefix, streamed % count, count, Math.max(5, Math.ceil((count - streamed) / 15000)));
    streamed += r.requests;
  }
  const after = await settledRss(server);
  const last = await held();
  return { perEntry: (after - before) / (last - first), entries: last };
}
