/**
 * `node dist/benchmarks/read-your-writes.js`: the read-your-writes window
 * (issue 20, item 5). A client SETs a key the proxy holds, and as soon as
 * Redis acknowledges the write, reads it through the proxy (HTTP, the built
 * artifact, INVALIDATION=tracking); until the invalidation has reached the
 * proxy's shard, that read gets the old value. Per key: whether the first
 * read after the ack was old, and how long after the ack the new value was
 * first seen (reading again at once until it is). Sequential writers, then 16
 * at once (the invalidations then queue behind one another and the reads).
 */
import { Agent, request } from 'undici';
import { startProxy, startRedis } from '../test/helpers/processes.js';

const KEYS = 2000;
const stoppers: (() => unknown)[] = [];
const t = { teardown: (fn: () => unknown) => stoppers.push(fn) };
const redis = await startRedis(t);
const agent = new Agent({ connections: 32, pipelining: 1 });
try {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, CACHE_TTL_MS: '600000' });
  const read = async (key: string): Promise<string> => {
    const res = await request(`${proxy.url}/${key}`, { dispatcher: agent });
    return res.body.text();
  };
  const one = async (key: string): Promise<{ old: boolean; ms: number }> => {
    await redis.client.set(key, 'old');
    while ((await read(key)) !== 'old');
    const writer = redis.client;
    await writer.set(key, 'new');
    const acked = performance.now();
    let old = false;
    for (let first = true; ; first = false) {
      const v = await read(key);
      if (v === 'new') return { old, ms: performance.now() - acked };
      if (first) old = true;
    }
  };
  for (const writers of [1, 16]) {
    const results: { old: boolean; ms: number }[] = [];
    const prefix = `ryw:${writers}`;
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = w; i < KEYS; i += writers) results.push(await one(`${prefix}:${i}`));
      }),
    );
    const stale = results.filter((r) => r.old);
    const ms = stale.map((r) => r.ms).sort((a, b) => a - b);
    const q = (p: number): string => (ms.length === 0 ? '-' : ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!.toFixed(2));
    console.log(
      `${writers} writer(s): ${stale.length} of ${results.length} first reads after the ack got the old value (${((100 * stale.length) / results.length).toFixed(1)}%); window of those, ms after the ack: p50 ${q(0.5)}, p99 ${q(0.99)}, max ${q(1)}`,
    );
  }
} finally {
  await agent.close();
  for (const fn of stoppers.reverse()) await fn();
}
