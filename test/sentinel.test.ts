/**
 * The built proxy with REDIS_SENTINELS: one master, one replica and three
 * sentinels started by the harness. Reads and invalidations go to the
 * master the sentinels name; `SENTINEL FAILOVER` under load is a lost link
 * (flush, reconnect to the new master, re-arm), answered within 5 s with
 * zero wrong values, and writes to the new master show through the proxy.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { agent, get } from './helpers/http.js';
import { scrape, total } from './helpers/metrics.js';
import { sleep } from './helpers/time.js';
import { startProxy } from './helpers/processes.js';
import { startSentinels } from './helpers/sentinel.js';
import { describeFigures, newValuesShow, recoveryMs, underLoad, VersionedKeys } from './helpers/versioned.js';

const TIMEOUT_MS = 500;
const setup = await startSentinels(t);
const http = agent(16);
t.teardown(() => http.close());
// Writes follow the master the sentinels name, as an application's would.
const writer = new Redis({
  sentinels: setup.sentinelNodes.map((s) => ({ host: '127.0.0.1', port: s.port })),
  name: setup.name,
  failoverDetector: true,
  commandTimeout: 1000,
});
writer.on('error', () => {});
t.teardown(() => writer.disconnect());
const env = {
  REDIS_SENTINELS: setup.sentinels,
  REDIS_SENTINEL_NAME: setup.name,
  SHARDS: '2',
  CACHE_TTL_MS: '600000',
  REDIS_TIMEOUT_MS: String(TIMEOUT_MS),
};

t.test('reads from the master the sentinels name; a SET there shows through the proxy', async (t) => {
  const proxy = await startProxy(t, env);
  const keys = new VersionedKeys('s:', 50);
  await keys.writeAll(writer, 1);
  const master = await setup.master();
  for (const key of keys.keys)
    t.equal((await get(proxy.url, `/${key}`, { dispatcher: http })).body.toString(), VersionedKeys.value(key, 1));
  const clients = String(await master.client.client('LIST'));
  t.match(clients, /name=shardcache:shard-0 .*flags=t /, 'the data connection is on the master, tracked');
  t.match(clients, /name=shardcache:shard-0:invalidate /, 'and so is its subscriber');
  const slowest = await newValuesShow({ keys, writer, base: proxy.url, dispatcher: http }, 2);
  t.ok(slowest <= 1000, `new values served (all within ${Math.round(slowest)} ms)`);
  t.match(proxy.logs(), new RegExp(`redis sentinel master ${setup.name} via 127\\.0\\.0\\.1:\\d+`));
  t.equal((await get(proxy.admin, '/readyz', { dispatcher: http })).body.toString(), 'ready\n');
});

t.test('SENTINEL FAILOVER under load: zero wrong values, none late, back within 5 s; SETs on the new master seen', async (t) => {
  const proxy = await startProxy(t, env);
  const keys = new VersionedKeys('sf:', 100);
  await keys.writeAll(writer, 1);
  const before = await setup.master();
  let started = 0;
  let tookMs = 0;
  const shots = await underLoad({ keys, writer, base: proxy.url, dispatcher: http, pauseWrites: true }, async () => {
    started = performance.now();
    tookMs = await setup.failover();
  });
  const after = await setup.master();
  t.not(after.port, before.port, `the sentinels moved the master from ${before.address} to ${after.address}`);
  const f = keys.figures(shots);
  const recovery = recoveryMs(keys, shots, started);
  t.comment(
    describeFigures(
      'SENTINEL FAILOVER',
      f,
      `; the sentinels agreed after ${Math.round(tookMs)} ms; service back ${Math.round(recovery)} ms after the failover began`,
    ),
  );
  t.equal(f.wrong, 0, 'zero wrong values');
  t.equal(f.other, 0, 'every request answered 200 or 503');
  t.ok(f.slowestMs <= TIMEOUT_MS + 1000, `none took over REDIS_TIMEOUT_MS + 1 s (slowest ${Math.round(f.slowestMs)} ms)`);
  t.ok(recovery <= 5000, `service back within 5 s (${Math.round(recovery)} ms)`);
  const slowest = await newValuesShow({ keys, writer, base: proxy.url, dispatcher: http }, 1000);
  t.ok(slowest <= 1000, `SETs on the new master show through the proxy (within ${Math.round(slowest)} ms)`);
  const m = await scrape(proxy.admin);
  t.equal(total(m, 'shardcache_tracking_armed'), 2, 'tracking armed again on both shards');
  t.ok(total(m, 'shardcache_tracking_rearms_total') >= 2, 'each shard re-armed after the switch');
  t.match(String(await after.client.client('LIST')), /name=shardcache:shard-1 .*flags=t /, 'the shards read from the new master now');
});

t.test('5 CLIENT KILLs of a data connection on the master under load: at most 5 failed, zero wrong values', async (t) => {
  const proxy = await startProxy(t, env);
  const keys = new VersionedKeys('sk:', 50);
  await keys.writeAll(writer, 1);
  const master = await setup.master();
  const shots = await underLoad({ keys, writer, base: proxy.url, dispatcher: http }, async () => {
    for (let i = 0; i < 5; i++) {
      const lines = String(await master.client.client('LIST'))
        .split('\n')
        .filter((l) => / name=shardcache:shard-\d+ /.test(l));
      await master.client.client('KILL', 'ID', /id=(\d+)/.exec(lines[i % lines.length]!)![1]!);
      await sleep(300);
    }
  });
  const f = keys.figures(shots);
  const m = await scrape(proxy.admin);
  t.comment(
    describeFigures(
      'sentinel: 5 data connections killed',
      f,
      `; ${total(m, 'shardcache_redis_reconnects_total')} reconnects, ${total(m, 'shardcache_redis_reads_resent_total')} reads resent`,
    ),
  );
  t.ok(f.sent > 300, `${f.sent} requests`);
  t.ok(f.unavailable + f.other <= 5, `at most 5 failed (${f.unavailable} 503, ${f.other} other)`);
  t.equal(f.wrong, 0, 'zero wrong values');
  t.equal(total(m, 'shardcache_redis_reconnects_total'), 5, 'five reconnects');
});
