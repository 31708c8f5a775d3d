/**
 * Faults inside the proxy, under load from a bounded request loop: one shard
 * worker killed (only its requests fail, then it serves again), and SIGTERM
 * with one acceptor and with several (every request the proxy accepted is
 * answered before it exits 0). An acceptor killed: test/acceptors.test.ts.
 */
import t from 'tap';
import { request } from 'undici';
import { shardOf } from '../src/routing/hash.js';
import { agent } from './helpers/http.js';
import { load, type Shot } from './helpers/load.js';
import { sleep } from './helpers/time.js';
import { scrape, total } from './helpers/metrics.js';
import { startProxy, startRedis } from './helpers/processes.js';

const redis = await startRedis(t);

t.test('one shard killed under load: only its in-flight requests fail (503), then it serves again', async (t) => {
  const http = agent(16);
  t.teardown(() => http.close());
  const proxy = await startProxy(t, {
    REDIS_URL: redis.url,
    SHARDS: '2',
    CACHE_TTL_MS: '60000',
    REDIS_TIMEOUT_MS: '3000',
    SHARDCACHE_TEST_HOOKS: '1',
  });
  const keys = Array.from({ length: 200 }, (_, i) => `k:${i}`);
  await redis.client.mset(...keys.flatMap((k) => [k, `value of ${k}`]));
  const slow = Array.from({ length: 40 }, (_, i) => `slow:${i}`)
    .filter((k) => shardOf(k, 2) === 0)
    .slice(0, 10);
  await redis.client.mset(...slow.flatMap((k) => [k, 'slow']));

  // Warm the cache first: then the loop's requests are hits, never held by
  // Redis, and shard 0's in-flight gauge counts the doomed requests alone.
  await Promise.all(keys.map((k) => request(`${proxy.url}/${k}`, { dispatcher: http }).then((r) => r.body.dump())));
  let stop = false;
  const live: Shot[] = [];
  const loop = load({ base: proxy.url, keys, clients: 8, dispatcher: http, stop: () => stop, maxRequests: 20000, pauseMs: 1, into: live });
  await sleep(200);
  // Hold Redis so that requests for shard 0's uncached keys are in flight
  // when it dies; wait until the proxy's own gauge shows them there.
  const { done: sleeping } = await redis.hold(t, 1);
  const own = agent(slow.length);
  t.teardown(() => own.close());
  const doomed = Promise.all(
    slow.map((k) =>
      request(`${proxy.url}/${k}`, { dispatcher: own }).then(async (r) => ({
        status: r.statusCode,
        retry: r.headers['retry-after'],
        body: await r.body.text(),
      })),
    ),
  );
  let inflight = 0;
  for (let i = 0; i < 40 && inflight < slow.length; i++) {
    inflight = total(await scrape(proxy.admin), 'shardcache_inflight_requests', { shard: '0' });
    if (inflight < slow.length) await sleep(5);
  }
  t.ok(inflight >= slow.length, `${inflight} requests in flight on shard 0 before the kill`);
  const killedAt = performance.now();
  const kill = await request(`${proxy.admin}/test/kill-shard/0`, { method: 'POST', dispatcher: http });
  t.equal(kill.statusCode, 200, await kill.body.text());
  // The hook answers once the worker is dead; recovery is counted from here.
  const diedAt = performance.now();
  const failed = await doomed;
  t.same(
    failed.filter((a) => a.status !== 503 || a.retry !== '1' || a.body !== 'shard restarting\n'),
    [],
    'every in-flight request of the killed shard: 503, Retry-After: 1',
  );
  await sleeping;
  // Keep the load on until shard 0 has answered from its new worker for a
  // while (a replacement starts a thread and connects to Redis first).
  const recovered = (): Shot | undefined => live.find((s) => s.started > diedAt && shardOf(s.key, 2) === 0 && s.status === 200);
  const deadline = performance.now() + 10000;
  while (performance.now() < deadline && (recovered() === undefined || performance.now() - recovered()!.ended < 300)) await sleep(20);
  stop = true;
  const shots = await loop;

  const of = (shard: number): Shot[] => shots.filter((s) => shardOf(s.key, 2) === shard);
  const bad = (s: Shot): boolean => s.status !== 200 || s.body !== `value of ${s.key}`;
  const back = of(0).find((s) => s.started > diedAt && !bad(s));
  t.equal(shots.filter((s) => s.status === 0).length, 0, 'no request went unanswered');
  t.equal(of(1).filter(bad).length, 0, `shard 1: ${of(1).length} requests, all 200 with the right value`);
  t.ok(
    of(0)
      .filter(bad)
      .every((s) => s.status === 503),
    'shard 0: every failure is a 503',
  );
  t.ok(back !== undefined, 'shard 0 serves again after the kill');
  const m = await scrape(proxy.admin);
  t.equal(total(m, 'shardcache_shard_restarts_total', { shard: '0' }), 1, 'the restart is counted');
  t.equal(total(m, 'shardcache_shard_restarts_total', { shard: '1' }), 0);
  t.equal((await request(`${proxy.admin}/readyz`, { dispatcher: http })).statusCode, 200, 'ready again');
  t.match(proxy.logs(), /"shard":0,"msg":"killed by the test hook"/, "the dying worker's last line reached the log");
  t.match(proxy.logs(), /shard 0: worker died/);
  t.equal(proxy.child.exitCode, null, 'the process lives');
  const failures = shots.filter(bad).length + failed.length;
  const reasons = new Map<string, number>([['in flight at the kill: shard restarting', failed.length]]);
  for (const s of shots.filter(bad)) reasons.set(s.body.trim(), (reasons.get(s.body.trim()) ?? 0) + 1);
  t.comment(
    `shard kill: sent ${shots.length + slow.length}, answered ${shots.length + slow.length}, failed ${failures} (all shard 0, 503), ` +
      `shard 1 failures 0 of ${of(1).length}; shard 0 serving again ${back ? Math.round(back.ended - diedAt) : 'never'} ms after its worker died (kill request ${Math.round(diedAt - killedAt)} ms); ` +
      `failures by reason: ${[...reasons].map(([r, n]) => `${n} × ${r}`).join(', ')}`,
  );
});

for (const acceptors of ['1', '3'])
  t.test(`SIGTERM under load, ACCEPTORS=${acceptors}: every accepted request is answered, then exit 0`, async (t) => {
    const http = agent(16);
    t.teardown(() => http.close());
    const proxy = await startProxy(t, {
      REDIS_URL: redis.url,
      SHARDS: '2',
      ACCEPTORS: acceptors,
      CACHE_TTL_MS: '60000',
      REDIS_TIMEOUT_MS: '3000',
      SHUTDOWN_TIMEOUT_MS: '5000',
    });
    const keys = Array.from({ length: 300 }, (_, i) => `term:${i}`);
    await redis.client.mset(...keys.flatMap((k) => [k, `v-${k}`]));
    const held = Array.from({ length: 10 }, (_, i) => `term:held:${i}`);
    await redis.client.mset(...held.flatMap((k) => [k, `v-${k}`]));
    // Warm the loop's keys: its requests are then hits, and what is in flight
    // when SIGTERM arrives is the held requests below.
    const warm = await Promise.all(
      keys.map((k) =>
        request(`${proxy.url}/${k}`, { dispatcher: http }).then(async (r) => (await r.body.text()) === `v-${k}` && r.statusCode === 200),
      ),
    );
    t.ok(warm.every(Boolean), 'warm-up: all 200');
    const loop = load({ base: proxy.url, keys, clients: 12, dispatcher: http, stop: () => false, maxRequests: 50000, endOnError: true });
    await sleep(200);
    // Requests held in flight by a sleeping Redis when SIGTERM arrives: the
    // drain must wait for them. They get connections of their own.
    const { done: sleeping } = await redis.hold(t, 0.8);
    const own = agent(held.length);
    t.teardown(() => own.close());
    const heldAnswers = Promise.all(
      held.map((k) =>
        request(`${proxy.url}/${k}`, { dispatcher: own }).then(
          async (r) => ({ key: k, status: r.statusCode, body: await r.body.text(), error: '' }),
          (err: Error & { code?: string }) => ({ key: k, status: 0, body: '', error: err.code ?? err.message }),
        ),
      ),
    );
    let inflight = 0;
    for (let i = 0; i < 40 && inflight < held.length; i++) {
      inflight = total(await scrape(proxy.admin), 'shardcache_inflight_requests');
      if (inflight < held.length) await sleep(5);
    }
    const exited = new Promise<number | null>((resolve) => proxy.child.once('exit', resolve));
    process.kill(proxy.child.pid!, 'SIGTERM');
    const code = await exited;
    await sleeping;
    const shots = await loop;
    const heldShots = await heldAnswers;
    t.equal(code, 0, 'exit code 0');
    const stopped = /answered (\d+) of (\d+) requests received/.exec(proxy.logs());
    const draining = /draining (\d+) requests in flight/.exec(proxy.logs());
    t.ok(stopped && draining, 'the stop is logged');
    const [answeredByProxy, received] = [Number(stopped![1]), Number(stopped![2])];
    const answered = [...shots, ...heldShots].filter((s) => s.status !== 0);
    const refused = [...shots, ...heldShots].filter((s) => s.status === 0);
    const heldAnswered = heldShots.filter((s) => s.status !== 0);
    t.ok(Number(draining![1]) > 0, `${draining![1]} requests were in flight at SIGTERM`);
    t.ok(heldAnswered.length > 0, `${heldAnswered.length} of the held requests were accepted before the stop`);
    t.equal(answeredByProxy, received, 'the proxy answered every request it received');
    t.equal(warm.length + answered.length, received, 'and every one of those answers reached its client (warm-up included)');
    t.same(
      answered.filter((s) => s.status !== 200 || s.body !== `v-${s.key}`),
      [],
      'all of them 200 with the right value, the held ones included',
    );
    t.ok(
      refused.every((s) => ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET'].includes(s.error!)),
      `requests after the stop were refused at the connection: ${[...new Set(refused.map((s) => s.error))].join(', ')}`,
    );
    t.comment(
      `SIGTERM, ACCEPTORS=${acceptors}: sent ${warm.length + shots.length + held.length}, accepted ${received}, answered ${warm.length + answered.length}, failed among accepted ${received - warm.length - answered.length}, refused after close ${refused.length}; ${draining![1]} in flight at SIGTERM`,
    );
  });
