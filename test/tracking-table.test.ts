/**
 * Past Redis's tracking table: a real redis-server with
 * `tracking-table-max-keys 1000`, the built proxy over HTTP, 5,000 keys read
 * twice. With TRACKING_MODE=default Redis evicts keys from its table and
 * invalidates them unchanged, and the proxy says so (one warning line, the
 * fill on the status page, /stats.json and /metrics); with
 * TRACKING_MODE=bcast the second pass is hits and a SET is still seen at
 * once. Then the table reader in-process: an ACL that refuses CONFIG, and
 * several servers (a cluster's masters), of which the fullest is shown.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { request } from 'undici';
import type { StatsSnapshot } from '../src/control/stats-snapshot.js';
import { newShardStats, Stat } from '../src/metrics/shard-stats.js';
import { TrackingTable } from '../src/shard/invalidation/tracking-table.js';
import { until } from './helpers/backend-shard.js';
import { agent, get } from './helpers/http.js';
import { scrape, total } from './helpers/metrics.js';
import { startProxy, startRedis, type Proxy } from './helpers/processes.js';
import { sleep } from './helpers/time.js';

const redis = await startRedis(t);
await redis.client.config('SET', 'tracking-table-max-keys', '1000');
const KEYS = Array.from({ length: 5000 }, (_, i) => `tt:${i}`);
for (let i = 0; i < KEYS.length; i += 500) await redis.client.mset(...KEYS.slice(i, i + 500).flatMap((k) => [k, `v-${k}`]));
const http = agent(16);
t.teardown(() => http.close());

/** Reads every key once, 100 at a time; resolves with the hits the proxy counted meanwhile. */
async function pass(proxy: Proxy): Promise<number> {
  const before = total(await scrape(proxy.admin), 'shardcache_cache_hits_total');
  for (let i = 0; i < KEYS.length; i += 100) {
    const answers = await Promise.all(KEYS.slice(i, i + 100).map((k) => get(proxy.url, `/${k}`, { dispatcher: http })));
    const wrong = answers.findIndex((a, j) => a.status !== 200 || a.body.toString() !== `v-${KEYS[i + j]}`);
    if (wrong >= 0) throw new Error(`${KEYS[i + wrong]}: ${answers[wrong]!.status} ${answers[wrong]!.body.toString()}`);
  }
  return total(await scrape(proxy.admin), 'shardcache_cache_hits_total') - before;
}

const common = { REDIS_URL: redis.url, CACHE_CAPACITY: '20000', CACHE_TTL_MS: '600000', SHARDS: '2' };

t.test('default mode: the warning naming both settings, and the fill on the status page, /stats.json and /metrics', async (t) => {
  const proxy = await startProxy(t, { ...common, TRACKING_MODE: 'default' });
  t.teardown(() => proxy.stop());
  const capacityWarning = /shard 0: CACHE_CAPACITY \(20000\) is more keys than Redis's tracking-table-max-keys \(1000\) hold/;
  await until(() => capacityWarning.test(proxy.logs()), 'the capacity warning at start', 5000);
  await pass(proxy);
  const hits = await pass(proxy);
  t.comment(`default mode, second pass: ${hits} hits of ${KEYS.length}`);
  t.ok(hits < KEYS.length / 2, `the table caps what stays cached: ${hits} hits of ${KEYS.length}`);
  // The fill is read every 5 s.
  let samples = await scrape(proxy.admin);
  await until(
    async () => {
      samples = await scrape(proxy.admin);
      return samples.get('shardcache_redis_tracking_keys')! >= 900;
    },
    'the fill in /metrics',
    8000,
  );
  t.equal(samples.get('shardcache_redis_tracking_table_max_keys'), 1000);
  t.ok(samples.get('shardcache_redis_tracking_keys')! <= 1000, 'at most the table');
  t.ok(total(samples, 'shardcache_invalidation_messages_total') > 1000, 'Redis invalidated the keys it evicted from its table');
  t.match(proxy.logs(), /shard 0: Redis's tracking table is (9\d|100)% full \(\d+ of tracking-table-max-keys 1000\)/);
  t.equal(proxy.logs().match(/tracking-table-max-keys \(1000\) hold/g)!.length, 1, 'the capacity warning is said once');
  t.equal(proxy.logs().match(/tracking table is \d+% full/g)!.length, 1, 'the fill warning is said once');
  t.match(samplesLine(samples, 'shardcache_info'), /tracking_mode="default"/);
  const snapshot = (await (await request(`${proxy.admin}/stats.json`)).body.json()) as StatsSnapshot;
  t.equal(snapshot.trackingTable.maxKeys, 1000);
  t.ok(snapshot.trackingTable.keys! >= 900);
  const page = await (await request(`${proxy.admin}/`)).body.text();
  t.match(page, /<dt>tracking table<\/dt><dd><span id="tracking-table" class="warn">[\d,]+ of 1,000 keys \((9\d|100) %\)<\/span>/);
  t.match(page, /<dt>invalidation<\/dt><dd>tracking \(default\)<\/dd>/);
});

t.test('bcast mode: the second pass is hits, a SET is still seen within 50 ms', async (t) => {
  const proxy = await startProxy(t, { ...common, TRACKING_MODE: 'bcast', KEY_PREFIX: 'tt:' });
  t.teardown(() => proxy.stop());
  await pass(proxy);
  const hits = await pass(proxy);
  t.comment(`bcast mode, second pass: ${hits} hits of ${KEYS.length}`);
  t.ok(hits >= 0.95 * KEYS.length, `${hits} hits of ${KEYS.length}`);
  for (const key of [KEYS[0]!, KEYS[2500]!, KEYS[4999]!]) {
    await redis.client.set(key, 'changed');
    const acked = performance.now();
    let answer = (await get(proxy.url, `/${key}`, { dispatcher: http })).body.toString();
    while (answer !== 'changed' && performance.now() - acked < 1000) {
      answer = (await get(proxy.url, `/${key}`, { dispatcher: http })).body.toString();
    }
    const ms = performance.now() - acked;
    t.equal(answer, 'changed', `${key}: the new value`);
    t.ok(ms <= 50, `${key}: seen ${ms.toFixed(1)} ms after the SET`);
    await redis.client.set(key, `v-${key}`);
  }
  t.notMatch(proxy.logs(), /CACHE_CAPACITY \(20000\) is more keys/, 'no capacity warning: bcast keeps no table');
  const samples = await scrape(proxy.admin);
  t.match(samplesLine(samples, 'shardcache_info'), /tracking_mode="bcast"/);
  t.equal(samples.get('shardcache_redis_tracking_table_max_keys'), 1000, 'the table is still shown');
});

/** The first sample line of `name`, labels and all. */
function samplesLine(samples: Map<string, number>, name: string): string {
  return [...samples.keys()].find((k) => k.startsWith(`${name}{`)) ?? '';
}

t.test('the reader: an ACL that refuses CONFIG is said once; INFO still gives the count', async (t) => {
  await redis.client.call('ACL', 'SETUSER', 'noconfig', 'on', '>pw', '~*', '&*', '+@all', '-config');
  const conn = new Redis({ port: redis.port, host: '127.0.0.1', username: 'noconfig', password: 'pw' });
  t.teardown(() => conn.disconnect());
  await conn.ping();
  const lines: string[] = [];
  const push = (l: string): void => void lines.push(l);
  const stats = newShardStats();
  const table = new TrackingTable({
    servers: () => [conn],
    mode: 'default',
    capacity: 1e6,
    label: 'shard 0',
    log: { info: push, warn: push, error: push },
    stats,
    intervalMs: 20,
  });
  t.teardown(() => table.close());
  await until(() => lines.length > 0 && stats[Stat.TrackingKeys]! >= 0, 'a first look');
  await sleep(100);
  t.same(
    lines.filter((l) => /Redis refused CONFIG GET tracking-table-max-keys \(NOPERM.*\), so CACHE_CAPACITY cannot be checked/.test(l))
      .length,
    1,
    'said once',
  );
  t.equal(lines.length, 1, 'nothing else');
  t.equal(stats[Stat.TrackingTableMaxKeys], -1, 'the limit unknown');
});

t.test("the reader over several servers (a cluster's masters): the fullest is shown; the capacity against all tables", async (t) => {
  // Fresh servers: a table keeps the keys of clients gone until it invalidates them.
  const [roomy, other] = [await startRedis(t), await startRedis(t)];
  await roomy.client.config('SET', 'tracking-table-max-keys', '1000');
  await other.client.config('SET', 'tracking-table-max-keys', '100');
  // A client of `other` that tracks 95 keys: 95% of its table.
  const reader = new Redis({ port: other.port, host: '127.0.0.1' });
  t.teardown(() => reader.disconnect());
  await reader.call('CLIENT', 'TRACKING', 'ON');
  await reader.mget(...Array.from({ length: 95 }, (_, i) => `o:${i}`));
  const lines: string[] = [];
  const push = (l: string): void => void lines.push(l);
  const stats = newShardStats();
  const table = new TrackingTable({
    servers: () => [roomy.client, other.client],
    mode: 'default',
    capacity: 1500,
    label: 'shard 0',
    log: { info: push, warn: push, error: push },
    stats,
    intervalMs: 20,
  });
  t.teardown(() => table.close());
  await until(() => stats[Stat.TrackingKeys] === 95, 'the fuller table');
  t.equal(stats[Stat.TrackingTableMaxKeys], 100);
  t.match(lines.join('\n'), /tracking table is 95% full \(95 of tracking-table-max-keys 100\)/);
  t.match(
    lines.join('\n'),
    /CACHE_CAPACITY \(1500\) is more keys than the tracking tables of 2 masters \(tracking-table-max-keys 1100 together\) hold/,
    'the capacity against both tables together',
  );
  await other.client.config('SET', 'tracking-table-max-keys', '0');
  const quiet = newShardStats();
  const unlimited = new TrackingTable({
    servers: () => [other.client],
    mode: 'default',
    capacity: 1e9,
    label: 'shard 0',
    log: { info: push, warn: push, error: push },
    stats: quiet,
    intervalMs: 20,
  });
  t.teardown(() => unlimited.close());
  const before = lines.length;
  await until(() => quiet[Stat.TrackingTableMaxKeys] === 0, 'no limit read');
  await sleep(100);
  t.equal(lines.length, before, 'no limit (0): nothing to warn about');
});
