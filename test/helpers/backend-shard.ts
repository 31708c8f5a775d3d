/**
 * A Shard over `openBackend`, tracked, as a shard worker wires them, for
 * in-process tests against real servers: its stats, its log lines, and
 * `read`, which sends keys in one batch and resolves with their values (or
 * outcomes).
 */
import { newShardStats } from '../../src/metrics/shard-stats.js';
import { openBackend, type Backend } from '../../src/shard/backend.js';
import type { BackendSettings } from '../../src/routing/backend-settings.js';
import { Shard } from '../../src/shard/shard.js';
import { batch, collector } from './batches.js';
import { sleep } from './time.js';

/** Polls `ok` until it holds, failing after `ms`. */
export async function until(ok: () => boolean | Promise<boolean>, what: string, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(10);
  }
}

/** A tracked shard over `settings`, closed in teardown. */
export function shardOver(t: { teardown(fn: () => unknown): void }, settings: BackendSettings) {
  const lines: string[] = [];
  const push = (line: string): void => void lines.push(line);
  const log = { info: push, warn: push, error: push };
  const stats = newShardStats();
  const backend: Backend = openBackend({ settings, label: 'shard 0', log, stats });
  const replies = collector();
  const shard = new Shard({ capacity: 1000, cacheTtlMs: 600000, fetch: backend.fetch, fetchMany: backend.fetchMany, stats });
  const link = shard.link(replies.send);
  backend.track(shard, false);
  t.teardown(() => backend.close());
  let next = 0;
  const read = async (keys: string[]): Promise<(string | number)[]> => {
    const before = replies.batches.flat().length;
    const ids = keys.map(() => ++next);
    shard.receive(batch(...keys.map((k, i): [number, string] => [ids[i]!, k])), link);
    const all = await replies.entries(before + keys.length);
    return ids.map((id) => {
      const r = all.find((e) => e[0] === id)!;
      return r[1] >= 0 ? r[2]! : r[1];
    });
  };
  return { backend, shard, stats, lines, read };
}
