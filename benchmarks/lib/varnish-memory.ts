/**
 * The memory benchmark's `varnish` part: what one cached object costs
 * Varnish (malloc storage) in front of webdis, beside Redis's per key. Two
 * figures, because neither alone is the answer: the RSS growth of varnishd's
 * cache child (everything the process pays: storage, objcores, the hash,
 * jemalloc's slack) and Varnish's own storage counter (`SMA.s0.g_bytes`,
 * what the storage allocated, without the objcore and hash outside it), each
 * divided by the objects varnishstat says it holds, not by requests sent.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { withChildren } from './cpu.js';
import { rssOf } from './gc.js';
import { startVarnish, type BenchEnv, type Teardown } from './targets.js';
import type { LoadResult } from './wrk.js';
import { sleep } from '../../test/helpers/time.js';

const run = promisify(execFile);

/**
 * varnishstat's counters of the instance in `dir`, by name (`MAIN.n_object`,
 * `SMA.s0.g_bytes`…): the objects held come from here because requests sent
 * are not objects stored (an error or a repeat stores nothing new).
 */
export async function varnishCounters(dir: string): Promise<Record<string, number>> {
  const { stdout } = await run('varnishstat', ['-n', dir, '-1', '-j'], { maxBuffer: 32 << 20 });
  const json = JSON.parse(stdout) as { counters?: Record<string, { value: number }> } & Record<string, unknown>;
  // Varnish 6.5 and later nest the counters under "counters"; older ones list them at the top.
  const counters = (json.counters ?? json) as Record<string, { value?: number }>;
  const out: Record<string, number> = {};
  for (const [name, c] of Object.entries(counters))
    if (typeof c === 'object' && c !== null && typeof c.value === 'number') out[name] = c.value;
  return out;
}

function commOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'latin1').trim();
  } catch {
    return undefined;
  }
}

/**
 * The pid of varnishd's cache child (it names itself `cache-main`) below
 * the manager `manager`: the objects live in that process, not in the
 * manager whose pid we spawned. It appears after the listen port opens (the
 * manager binds it), so this waits for it.
 */
export async function cacheChild(manager: number): Promise<number> {
  const deadline = Date.now() + 15000;
  for (;;) {
    const children = withChildren(manager).slice(1);
    const found = children.find((pid) => commOf(pid) === 'cache-main');
    if (found !== undefined) return found;
    if (Date.now() > deadline)
      throw new Error(
        `no cache-main process below varnishd ${manager} (children: ${children.map((p) => `${p} ${commOf(p)}`).join(', ') || 'none'})`,
      );
    await sleep(100);
  }
}

/** What `varnishFootprint` measured. */
export interface VarnishFootprint {
  /** MAIN.n_object after the fill. */
  objects: number;
  /** The cache child's RSS growth over the fill ÷ the objects added by it (the manager's is not in it: see `managerGrowth`). */
  rssPerObject: number;
  /** SMA.s0.g_bytes ÷ MAIN.n_object after the fill. */
  smaPerObject: number;
  /** The manager's RSS growth over the fill, in bytes, shown apart: it holds no object. */
  managerGrowth: number;
  /** The child's RSS before and after the fill, in bytes. */
  rssBefore: number;
  rssAfter: number;
  /** Counters worth a look beside the figures (objheads, nuked, storage failures, Transient). */
  counters: Record<string, number>;
  /** MAIN.threads before and after the fill: threads the pool adds under load grow the RSS without holding objects. */
  threads: [number, number];
  requests: number;
  errors: number;
}

/** Streams `count` keys from `start` through `url` for `seconds`, as the benchmark names them for webdis. */
export type Streamer = (url: string, start: number, count: number, seconds: number) => Promise<LoadResult>;

/**
 * Starts Varnish + webdis on `env`'s Redis (which holds `count` keys), fills
 * it with them through `stream` after a warm-up on the first 1,000, and
 * measures. Everything it starts is registered on `t`; a cache child still
 * alive after the manager's stop is killed by its pid.
 */
export async function varnishFootprint(t: Teardown, env: BenchEnv, count: number, stream: Streamer): Promise<VarnishFootprint> {
  let child: number | undefined;
  // Registered before varnishd so that it runs after the manager's stop (teardowns run in reverse).
  t.teardown(() => {
    if (child !== undefined && commOf(child) === 'cache-main') process.kill(child, 'SIGKILL');
  });
  const v = await startVarnish(env, t);
  child = await cacheChild(v.pid);
  const url = `http://127.0.0.1:${v.port}`;
  const held = async (): Promise<number> => (await varnishCounters(v.dir))['MAIN.n_object'] ?? 0;
  let requests = (await stream(url, 0, 1000, 2)).requests;
  let streamed = 1000;
  let errors = 0;
  const settle = (): Promise<void> => sleep(1000);
  await settle();
  const rssBefore = await rssOf(child);
  const managerBefore = await rssOf(v.pid);
  const start = await varnishCounters(v.dir);
  const first = start['MAIN.n_object'] ?? 0;
  // As `footprint` in memory.ts: passes in key order until every key is held (wrk stops on time, not on a count).
  for (let pass = 0; pass < 20 && (await held()) < count; pass++) {
    const r = await stream(url, streamed % count, count, Math.max(5, Math.ceil((count - streamed) / 15000)));
    streamed += r.requests;
    requests += r.requests;
    errors += r.errors;
  }
  await settle();
  const rssAfter = await rssOf(child);
  const managerGrowth = (await rssOf(v.pid)) - managerBefore;
  const all = await varnishCounters(v.dir);
  const objects = all['MAIN.n_object'] ?? 0;
  const pick = [
    'MAIN.n_objecthead',
    'MAIN.n_objectcore',
    'MAIN.n_lru_nuked',
    'MAIN.cache_miss',
    'MAIN.cache_hit',
    'MAIN.backend_fail',
    'MAIN.fetch_failed',
    'SMA.s0.g_bytes',
    'SMA.s0.g_space',
    'SMA.s0.g_alloc',
    'SMA.s0.c_fail',
    'SMA.Transient.g_bytes',
  ];
  const counters = Object.fromEntries(pick.filter((name) => name in all).map((name) => [name, all[name]!]));
  if ((all['MAIN.n_lru_nuked'] ?? 0) > 0 || (all['SMA.s0.c_fail'] ?? 0) > 0) {
    throw new Error(
      `Varnish storage malloc,${env.varnishStorage} too small for ${count} objects: ${all['MAIN.n_lru_nuked']} nuked, ${all['SMA.s0.c_fail']} allocation failures`,
    );
  }
  const threads: [number, number] = [start['MAIN.threads'] ?? NaN, all['MAIN.threads'] ?? NaN];
  return {
    objects,
    rssPerObject: (rssAfter - rssBefore) / (objects - first),
    smaPerObject: (all['SMA.s0.g_bytes'] ?? NaN) / objects,
    managerGrowth,
    rssBefore,
    rssAfter,
    counters,
    threads,
    requests,
    errors,
  };
}
