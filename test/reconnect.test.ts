/**
 * A dropped data connection to a healthy Redis costs no request (issue 24):
 * the proxy's data connections are killed with CLIENT KILL under load with
 * writes, closed by Redis's idle `timeout`, and Redis itself is stopped for
 * comparison (503 within the timeout, as before). Figures are printed.
 */
import t from 'tap';
import { agent, get } from './helpers/http.js';
import { scrape, total } from './helpers/metrics.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { sleep } from './helpers/time.js';
import { describeFigures, underLoad, VersionedKeys } from './helpers/versioned.js';

const TIMEOUT_MS = 500;
const redis = await startRedis(t);
const http = agent(16);
t.teardown(() => http.close());
const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', CACHE_TTL_MS: '600000', REDIS_TIMEOUT_MS: String(TIMEOUT_MS) });

/** The CLIENT ID of each shard's data connection (not its `:invalidate` subscriber). */
async function dataConnections(): Promise<string[]> {
  const list = (await redis.client.client('LIST')) as string;
  return list
    .split('\n')
    .filter((l) => / name=shardcache:shard-\d+ /.test(l))
    .map((l) => /id=(\d+)/.exec(l)![1]!);
}

t.test('10 CLIENT KILLs of a data connection under load: at most 10 failed requests, every answer right', async (t) => {
  const keys = new VersionedKeys('k:', 50);
  await keys.writeAll(redis.client, 1);
  const before = await scrape(proxy.admin);
  let killed = 0;
  const shots = await underLoad({ keys, writer: redis.client, base: proxy.url, dispatcher: http }, async () => {
    for (let i = 0; i < 10; i++) {
      const ids = await dataConnections();
      await redis.client.client('KILL', 'ID', ids[i % ids.length]!);
      killed++;
      await sleep(300);
    }
  });
  const f = keys.figures(shots);
  const m = await scrape(proxy.admin);
  const reconnects = total(m, 'shardcache_redis_reconnects_total') - total(before, 'shardcache_redis_reconnects_total');
  const resent = total(m, 'shardcache_redis_reads_resent_total') - total(before, 'shardcache_redis_reads_resent_total');
  t.comment(describeFigures(`${killed} data connections killed`, f, `; ${reconnects} reconnects, ${resent} reads resent`));
  t.equal(killed, 10, 'ten connections killed');
  t.ok(f.sent > 500, `${f.sent} requests under load`);
  t.ok(f.unavailable + f.other <= 10, `at most 10 failed requests in all (${f.unavailable} 503, ${f.other} other)`);
  t.equal(f.wrong, 0, 'no value of another key, none older than one acknowledged 100 ms before the request');
  t.equal(reconnects, 10, 'each kill counted as one reconnect');
  t.ok(resent >= 1, `reads caught by a kill were sent again (${resent})`);
});

t.test("Redis's idle timeout closes the connections: the next requests succeed", async (t) => {
  await redis.client.config('SET', 'timeout', '1');
  t.teardown(() => redis.client.config('SET', 'timeout', '0'));
  const statuses: number[] = [];
  for (let round = 0; round < 3; round++) {
    await sleep(2500);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => get(proxy.url, `/idle:${round}:${i}`, { dispatcher: http })));
    statuses.push(...answers.map((a) => a.status));
  }
  t.same(
    statuses,
    statuses.map(() => 404),
    'every request after an idle period answered (404: the keys do not exist), none 503',
  );
  t.comment(
    `idle timeout 1 s: ${statuses.length} requests after 3 idle periods of 2.5 s; ${total(await scrape(proxy.admin), 'shardcache_redis_reconnects_total')} reconnects in all so far`,
  );
});

t.test('Redis stopped: a miss still answers 503 within REDIS_TIMEOUT_MS + 1 s', async (t) => {
  await redis.stop();
  t.teardown(() => redis.restart());
  const started = performance.now();
  const answers = await Promise.all(['gone:a', 'gone:b', 'gone:c'].map((k) => get(proxy.url, `/${k}`, { dispatcher: http })));
  const ms = performance.now() - started;
  t.same(
    answers.map((a) => a.status),
    [503, 503, 503],
    '503 while Redis is down',
  );
  t.ok(ms <= TIMEOUT_MS + 1000, `within REDIS_TIMEOUT_MS + 1 s (${ms.toFixed(0)} ms)`);
});
