/**
 * Network faults between the built proxy and a standalone Redis running in
 * a network namespace of this test's own (test/helpers/netns.ts): 50 ms of
 * added latency, 20 % packet loss, the link cut, the link restored. The
 * test's own client writes over a unix socket, past the faults. Figures
 * (requests, answers, wrong values, times) are printed for each phase.
 */
import t from 'tap';
import { agent, get } from './helpers/http.js';
import { sleep } from './helpers/time.js';
import { scrape, total } from './helpers/metrics.js';
import { startNetnsRedis } from './helpers/netns.js';
import { startProxy } from './helpers/processes.js';
import { describeFigures, underLoad, VersionedKeys } from './helpers/versioned.js';

const TIMEOUT_MS = 500;
const redis = await startNetnsRedis(t);
const http = agent(16);
t.teardown(() => http.close());
const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', CACHE_TTL_MS: '600000', REDIS_TIMEOUT_MS: String(TIMEOUT_MS) });
const keys = new VersionedKeys('n:', 50);
await keys.writeAll(redis.client, 1);
for (const key of keys.keys) await get(proxy.url, `/${key}`, { dispatcher: http });

/** ms and answer of one GET through the proxy. */
async function timed(key: string): Promise<{ ms: number; status: number; body: string }> {
  const started = performance.now();
  const answer = await get(proxy.url, `/${key}`, { dispatcher: http });
  return { ms: performance.now() - started, status: answer.status, body: answer.body.toString() };
}
const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

t.test('50 ms added latency: misses right and 50 ms slower, hits unaffected, invalidations still arrive', async (t) => {
  const fresh = (tag: string): string[] => Array.from({ length: 20 }, (_, i) => `lat:${tag}:${i}`);
  for (const key of [...fresh('a'), ...fresh('b')]) await redis.client.set(key, `v ${key}`);
  const before = await Promise.all(fresh('a').map(timed));
  await redis.delay(50);
  t.teardown(() => redis.delay(0));
  const after: Awaited<ReturnType<typeof timed>>[] = [];
  for (const key of fresh('b')) after.push(await timed(key));
  t.same(
    after.map((a) => [a.status, a.body]),
    fresh('b').map((k) => [200, `v ${k}`]),
    'every miss answered right',
  );
  t.ok(
    after.every((a) => a.ms >= 50),
    `every miss took at least the 50 ms (fastest ${Math.min(...after.map((a) => a.ms)).toFixed(1)} ms)`,
  );
  // One at a time, like the misses: all at once, a busy 2-core machine queued them past 50 ms (median 59 ms in one CI run).
  const hits: Awaited<ReturnType<typeof timed>>[] = [];
  for (const k of keys.keys) hits.push(await timed(k));
  t.same(
    hits.map((h) => h.body),
    keys.keys.map((k) => VersionedKeys.value(k, 1)),
    'hits right',
  );
  t.ok(median(hits.map((h) => h.ms)) < 50, `hits are not delayed (median ${median(hits.map((h) => h.ms)).toFixed(1)} ms)`);
  const key = keys.keys[0]!;
  await keys.write(redis.client, key, 2);
  const started = performance.now();
  while ((await timed(key)).body !== VersionedKeys.value(key, 2) && performance.now() - started < 2000) await sleep(5);
  const lag = performance.now() - started;
  t.ok(lag <= 300, `a SET still shows through the proxy (${lag.toFixed(0)} ms, the invalidation now travelling 50 ms)`);
  t.comment(
    `latency +50 ms: miss median ${median(before.map((b) => b.ms)).toFixed(1)} ms before, ${median(after.map((a) => a.ms)).toFixed(1)} ms after; hit median ${median(hits.map((h) => h.ms)).toFixed(1)} ms; a SET shown after ${lag.toFixed(0)} ms`,
  );
  await redis.delay(0);
});

t.test('TCP resets of every connection to Redis, 5 times under load with writes: at most 5 failed, zero wrong values', async (t) => {
  const reset = new VersionedKeys('rst:', 50);
  await reset.writeAll(redis.client, 1);
  const before = total(await scrape(proxy.admin), 'shardcache_redis_reconnects_total');
  let covered = 0;
  const shots = await underLoad({ keys: reset, writer: redis.client, base: proxy.url, dispatcher: http }, async () => {
    for (let i = 0; i < 5; i++) {
      covered += await redis.reset();
      await sleep(300);
      await redis.unreset();
    }
  });
  const f = reset.figures(shots);
  const m = await scrape(proxy.admin);
  const reconnects = total(m, 'shardcache_redis_reconnects_total') - before;
  t.comment(
    describeFigures(
      '5 rounds of TCP resets',
      f,
      `; ${covered} connections reset, ${reconnects} data reconnects, ${total(m, 'shardcache_redis_reads_resent_total')} reads resent in all`,
    ),
  );
  t.ok(covered >= 20, `every round reset the data connections and subscribers of both shards (${covered} in all)`);
  t.ok(reconnects >= 10, `both data connections reconnected after each round (${reconnects})`);
  t.ok(f.sent > 300, `${f.sent} requests`);
  t.ok(f.unavailable + f.other <= 5, `at most 5 failed (${f.unavailable} 503, ${f.other} other)`);
  t.equal(f.wrong, 0, 'zero wrong values');
});

t.test(
  '20 % packet loss under load with writes: answered (200 or 503), never late, no value staler than a dead link can hide',
  async (t) => {
    await redis.loss(20);
    t.teardown(() => redis.loss(0));
    // Every SET's invalidation crosses the lossy link, and every re-read too.
    // A retransmitted invalidation is late, not lost; past 3 s the link counts as dead and the cache is flushed.
    const lossy = new VersionedKeys('loss:', 50, 3000);
    await lossy.writeAll(redis.client, 1);
    const shots = await underLoad({ keys: lossy, writer: redis.client, base: proxy.url, dispatcher: http }, () => sleep(4000));
    await redis.loss(0);
    const f = lossy.figures(shots);
    const m = await scrape(proxy.admin);
    t.comment(describeFigures('20 % loss', f, `; tracking re-armed ${total(m, 'shardcache_tracking_rearms_total')} times meanwhile`));
    t.ok(f.sent > 200, `${f.sent} requests`);
    t.equal(f.other, 0, 'every request answered 200 or 503');
    t.equal(f.wrong, 0, 'no value older than one acknowledged 3 s before the request');
    t.ok(f.slowestMs <= TIMEOUT_MS + 1000, `none took over REDIS_TIMEOUT_MS + 1 s (slowest ${Math.round(f.slowestMs)} ms)`);
  },
);

t.test(
  'link cut: 503 within the timeout; the silent link is found within 3 s and the cache flushed; restored: fresh values within 2 s',
  async (t) => {
    // Settle after the loss phase: every key cached again.
    for (const key of keys.keys) await get(proxy.url, `/${key}`, { dispatcher: http });
    await redis.cut();
    const cutAt = performance.now();
    t.teardown(() => redis.restore());
    const uncached = await Promise.all(['cut:x', 'cut:y', 'cut:z'].map(timed));
    t.same(
      uncached.map((u) => u.status),
      [503, 503, 503],
      'keys that were not cached: 503',
    );
    t.ok(
      uncached.every((u) => u.ms <= TIMEOUT_MS + 1000),
      `within REDIS_TIMEOUT_MS + 1 s (slowest ${Math.max(...uncached.map((u) => u.ms)).toFixed(0)} ms)`,
    );
    // The 50 keys are spread over both shards, and each shard watches its own connections.
    let flushedAt = 0;
    // Watched on the admin port, not by reading the keys: a miss now waits up to
    // REDIS_TIMEOUT_MS for the reconnect (resend.ts), which would make each look 500 ms long.
    while (performance.now() - cutAt < 6000) {
      if (total(await scrape(proxy.admin), 'shardcache_cache_entries') === 0) {
        flushedAt = performance.now();
        break;
      }
      await sleep(20);
    }
    const found = flushedAt - cutAt;
    t.ok(flushedAt > 0 && found <= 3000, `every shard found the silent link and flushed its cache ${found.toFixed(0)} ms after the cut`);
    const answers = await Promise.all(keys.keys.map((k) => timed(k)));
    t.ok(
      answers.every((a) => a.status === 503),
      'no cached key is served once the silent link is found',
    );
    t.match(proxy.logs(), /redis connection silent \(PING unanswered for 1000 ms\); reconnecting/);

    await redis.restore();
    const restoredAt = performance.now();
    await keys.writeAll(redis.client, 3);
    let fresh = 0;
    while (performance.now() - restoredAt < 6000) {
      const answers = await Promise.all(keys.keys.map((k) => timed(k)));
      fresh = answers.filter((a, i) => a.body === VersionedKeys.value(keys.keys[i]!, 3)).length;
      if (fresh === keys.keys.length) break;
      await sleep(20);
    }
    const back = performance.now() - restoredAt;
    t.equal(fresh, keys.keys.length, 'every key answers its new value');
    t.ok(back <= 2000, `fresh values within 2 s of the restore (${back.toFixed(0)} ms)`);
    t.comment(
      `link cut: uncached keys 503 in ${Math.max(...uncached.map((u) => u.ms)).toFixed(0)} ms at most; dead link found and cache flushed ${found.toFixed(0)} ms after the cut; fresh values ${back.toFixed(0)} ms after the restore`,
    );
  },
);
