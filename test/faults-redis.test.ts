/**
 * Redis killed (SIGKILL) under load from a bounded request loop, with
 * STALE_IF_ERROR_MS on: every request gets an answer (a stale value or 503)
 * within REDIS_TIMEOUT_MS + 1 s, the proxy survives, and it serves fresh
 * values again within 2 s of Redis returning.
 */
import t from 'tap';
import { agent } from './helpers/http.js';
import { load } from './helpers/load.js';
import { sleep } from './helpers/time.js';
import { scrape, total } from './helpers/metrics.js';
import { startProxy, startRedis } from './helpers/processes.js';

t.test('Redis killed under load: stale or 503, never a hang; fresh again ≤ 2 s after it returns', async (t) => {
  const redis = await startRedis(t);
  const http = agent(16);
  t.teardown(() => http.close());
  const timeoutMs = 500;
  const proxy = await startProxy(t, {
    REDIS_URL: redis.url,
    SHARDS: '2',
    CACHE_TTL_MS: '300',
    STALE_IF_ERROR_MS: '60000',
    REDIS_TIMEOUT_MS: String(timeoutMs),
  });
  const keys = Array.from({ length: 100 }, (_, i) => `r:${i}`);
  const never = Array.from({ length: 20 }, (_, i) => `r:never:${i}`);
  await redis.client.mset(...keys.flatMap((k) => [k, `old ${k}`]));
  // Read every key once first, so that each is cached (then stale) when Redis dies.
  await load({ base: proxy.url, keys, clients: keys.length, dispatcher: http, stop: () => false, maxRequests: keys.length });
  let stop = false;
  // The loop reads the 100 keys, and 20 keys it has never read (which only Redis could answer).
  const cycle = [...keys, ...keys.slice(0, 30), ...never];
  const loop = load({ base: proxy.url, keys: cycle, clients: 8, dispatcher: http, stop: () => stop, maxRequests: 30000, pauseMs: 2 });
  await sleep(300);

  const killedAt = performance.now();
  await redis.kill();
  await sleep(1500);
  const returnedAt = performance.now();
  await redis.restart();
  // The restarted Redis is empty: give it new values, so a fresh answer is told from a stale one.
  await redis.client.mset(...keys.flatMap((k) => [k, `new ${k}`]));
  let recoveredAt = 0;
  const deadline = performance.now() + 5000;
  while (performance.now() < deadline) {
    await sleep(20);
    if (recoveredAt === 0) {
      const shots = await load({
        base: proxy.url,
        keys: keys.slice(0, 10),
        clients: 1,
        dispatcher: http,
        stop: () => false,
        maxRequests: 10,
      });
      const fresh = shots.filter((s) => s.status === 200 && s.body.startsWith('new'));
      if (fresh.length === 10) recoveredAt = performance.now();
    } else if (performance.now() - recoveredAt > 300) {
      break;
    }
  }
  stop = true;
  const shots = await loop;

  const during = shots.filter((s) => s.started > killedAt && s.ended < returnedAt);
  const unanswered = shots.filter((s) => s.status === 0);
  const slowest = Math.max(...during.map((s) => s.ended - s.started));
  const stale = during.filter((s) => s.status === 200);
  const failed = during.filter((s) => s.status !== 200);
  t.equal(unanswered.length, 0, 'every request got an answer');
  t.ok(during.length > 100, `${during.length} requests during the outage`);
  t.ok(slowest <= timeoutMs + 1000, `none took longer than REDIS_TIMEOUT_MS + 1 s (slowest ${Math.round(slowest)} ms)`);
  t.same(
    failed.filter((s) => s.status !== 503 || s.headers['retry-after'] !== '1'),
    [],
    'what was not served stale is 503 with Retry-After',
  );
  t.ok(
    stale.every((s) => s.body === `old ${s.key}`),
    'the stale answers hold the old values',
  );
  t.ok(
    failed.every((s) => s.key.startsWith('r:never:') || s.started - killedAt < 350),
    'keys read before the outage were served stale once their TTL had passed',
  );
  const long = stale.filter((s) => s.started - killedAt > 400);
  t.ok(
    long.length > 0 && long.every((s) => s.headers['cache-control'] === 'max-age=0' && Number(s.headers.age) >= 0),
    'stale answers say max-age=0 and carry Age',
  );
  t.ok(
    long.some((s) => Number(s.headers.age) >= 1),
    'Age grows past the TTL while Redis is away',
  );
  t.ok(recoveredAt > 0 && recoveredAt - returnedAt <= 2000, `fresh values ${Math.round(recoveredAt - returnedAt)} ms after Redis returned`);
  t.equal(proxy.child.exitCode, null, 'the proxy survived');
  const m = await scrape(proxy.admin);
  t.ok(total(m, 'shardcache_stale_if_error_served_total') >= long.length, 'stale answers are counted');
  t.equal(total(m, 'shardcache_redis_up'), 2, 'both shards report Redis up again');
  t.match(proxy.logs(), /redis (connection lost|connection closed)/);
  t.match(proxy.logs(), /redis reconnected/);
  t.comment(
    `Redis killed: sent ${shots.length}, answered ${shots.length - unanswered.length}; during the 1.5 s outage ${during.length} requests: ` +
      `${stale.length} stale 200, ${failed.length} 503, slowest ${Math.round(slowest)} ms; fresh again ${Math.round(recoveredAt - returnedAt)} ms after Redis returned`,
  );
});
