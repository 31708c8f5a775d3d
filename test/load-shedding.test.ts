/**
 * Load shedding against the built proxy, a real redis-server and raw
 * sockets (issue 25): a burst of hits is answered in full however large;
 * MAX_INFLIGHT refuses exactly the misses past it while Redis sleeps, and a
 * hit is still answered during that storm.
 */
import t from 'tap';
import { sleep } from './helpers/time.js';
import { scrape, total } from './helpers/metrics.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { crowd, getAll, getEach } from './helpers/sockets.js';
import { openFileLimit } from '../src/file-limit.js';

const redis = await startRedis(t);
const CLIENTS = 4000;
/** How long Redis sleeps in the miss storm. */
const SLEEP_S = 1.7;

t.ok(
  openFileLimit()! > CLIENTS + 500,
  `open-file limit ${openFileLimit()} holds ${CLIENTS} sockets and the harness's own (raise ulimit -n otherwise)`,
);

t.test(`a burst of hits: ${CLIENTS} connections GET a cached key at once, all answered 200`, async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1' });
  await redis.client.set('ls:hot', 'hot');
  const { sockets, first } = await crowd(t, proxy, CLIENTS, '/ls:hot');
  t.equal(first.status, 200, 'cached by a first read');
  const answers = await getAll(sockets, () => '/ls:hot');
  const ok = answers.filter((a) => a.status === 200 && a.body === 'hot').length;
  t.equal(ok, CLIENTS, `${ok} of ${CLIENTS} answered 200 with the value`);
  const m = await scrape(proxy.admin);
  t.equal(total(m, 'shardcache_shed_total'), 0, 'nothing shed, for any reason');
  t.equal(total(m, 'shardcache_cache_hits_total'), CLIENTS, 'every one a hit');
  t.comment(`burst of ${CLIENTS} hits: ${ok} × 200, the last after ${Math.round(Math.max(...answers.map((a) => a.ms)))} ms`);
});

t.test(
  `a miss storm against a sleeping Redis: the excess over MAX_INFLIGHT is refused at once, the rest answered after, a hit meanwhile`,
  async (t) => {
    const maxInflight = 1000;
    // INVALIDATION=ttl: a tracking link silent through the sleep would be called dead and flush the cached key.
    const proxy = await startProxy(t, {
      REDIS_URL: redis.url,
      SHARDS: '1',
      MAX_INFLIGHT: String(maxInflight),
      REDIS_TIMEOUT_MS: '20000',
      INVALIDATION: 'ttl',
    });
    const keys = Array.from({ length: CLIENTS }, (_, i) => `ls:m:${i}`);
    await redis.client.mset(...keys.flatMap((k) => [k, `v${k}`]));
    await redis.client.set('ls:cached', 'cached');
    const { probe, sockets, first } = await crowd(t, proxy, CLIENTS, '/ls:cached');
    t.equal(first.status, 200, 'cached by a first read');
    // The shard's link check calls Redis dead after 2 s or more without a byte read (src/shard/redis/redis.ts):
    // a read just before, and a sleep shorter than that, so that the admitted misses are answered, not failed.
    t.equal((await getAll([probe], () => '/ls:absent'))[0]!.status, 404, 'a read just before the sleep');
    // Redis sleeps from some moment after this one, so it wakes no earlier than SLEEP_S after it.
    const asleepFrom = performance.now();
    const { done } = await redis.hold(t, SLEEP_S);
    const held = performance.now();
    // When each answer arrived: a burst of 4000 requests takes a while to write on a loaded machine, so an
    // answer's own time (from the burst's start) says nothing of when Redis woke; its arrival does.
    const each = getEach(sockets, (i) => `/${keys[i]}`).map((a) => a.then((r) => ({ ...r, at: performance.now() })));
    // A hit sent within the burst waits for the acceptor to parse what came before it: reported, not bounded.
    await sleep(20);
    const amid = getAll([probe], () => '/ls:cached');
    const [{ ms: amidMs }] = await amid;
    let refused = 0;
    for (const a of each) void a.then((r) => r.status === 503 && refused++);
    while (refused < CLIENTS - maxInflight && performance.now() - held < SLEEP_S * 1000 - 300) await sleep(5);
    // The storm on: the refusals are out and MAX_INFLIGHT misses wait on the sleeping Redis.
    const hit = (await getAll([probe], () => '/ls:cached'))[0]!;
    const hitAt = performance.now() - held;
    const answers = await Promise.all(each);
    await done;
    const woke = performance.now() - held;
    const shed = answers.filter((a) => a.status === 503);
    const served = answers.filter((a, i) => a.status === 200 && a.body === `v${keys[i]}`);
    t.equal(shed.length, CLIENTS - maxInflight, `exactly the excess over MAX_INFLIGHT refused (${shed.length})`);
    t.equal(served.length, maxInflight, `the other ${served.length} answered with their values`);
    t.ok(
      shed.every((a) => a.retryAfter === '1' && a.body === 'shard overloaded: MAX_INFLIGHT requests already waiting on redis\n'),
      'with Retry-After: 1 and the reason',
    );
    const slowestShed = Math.max(...shed.map((a) => a.ms));
    const firstServed = Math.min(...served.map((a) => a.ms));
    t.ok(
      slowestShed < woke && slowestShed < firstServed,
      `refused at once: the last 503 after ${Math.round(slowestShed)} ms, while Redis slept (it woke after ${Math.round(woke)} ms), before the first 200 (${Math.round(firstServed)} ms)`,
    );
    const firstArrival = Math.min(...served.map((a) => a.at)) - asleepFrom;
    t.ok(
      firstArrival >= SLEEP_S * 1000,
      `the admitted misses were answered only once Redis woke: the first ${Math.round(firstArrival)} ms after DEBUG SLEEP ${SLEEP_S} was sent`,
    );
    t.equal(hit.status, 200, 'the cached key during the storm: 200');
    t.ok(
      hit.ms < 200 && hitAt < woke - 200,
      `within 200 ms (${hit.ms.toFixed(1)} ms), ${Math.round(hitAt)} ms into the ${Math.round(woke)} ms Redis slept`,
    );
    const m = await scrape(proxy.admin);
    t.equal(total(m, 'shardcache_shed_total', { reason: 'misses' }), CLIENTS - maxInflight, 'counted as misses shed');
    t.equal(total(m, 'shardcache_shed_total', { reason: 'queue' }), 0, 'none by the hand-off bound');
    t.equal(total(m, 'shardcache_waiting_requests'), 0, 'nothing waiting once Redis answered');
    t.comment(
      `miss storm of ${CLIENTS}, MAX_INFLIGHT ${maxInflight}: ${shed.length} × 503 by ${Math.round(slowestShed)} ms, ${served.length} × 200 from ${Math.round(firstServed)} ms (Redis asleep ${Math.round(woke)} ms); a hit meanwhile in ${hit.ms.toFixed(1)} ms (one written 20 ms into the burst, behind its requests: ${amidMs.toFixed(0)} ms)`,
    );
  },
);
