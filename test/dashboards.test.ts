/**
 * The Grafana dashboard (deploy/grafana/shardcache.json) and the Prometheus
 * alert rules (deploy/prometheus/alerts.yml) against the /metrics of a real
 * proxy: every expression parses, every metric and label it names is served,
 * the dashboard shows what an operator needs and imports as a dashboard, and
 * the rules cover the failures that matter.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { parse } from 'yaml';
import { agent, get } from './helpers/http.js';
import { ROOT, startProxy, startRedis } from './helpers/processes.js';
import { problems, resultLabels, served, type Served } from './helpers/promql.js';
import { command, exchange } from './helpers/resp.js';
import { sleep } from './helpers/time.js';

interface Target {
  expr: string;
  refId: string;
  datasource?: { uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  __inputs: { name: string; type: string; pluginId: string }[];
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; query: { query: string } }[] };
}
interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}

const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/shardcache.json'), 'utf8')) as Dashboard;
const rules = (
  parse(readFileSync(join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8')) as { groups: { name: string; rules: Rule[] }[] }
).groups.flatMap((g) => g.rules);
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
/** Grafana's interval macros become a plain range, as Grafana does before sending the query. */
const expand = (expr: string): string => expr.replace(/\$__(rate_interval|interval|range)/g, '5m');

const redis = await startRedis(t);
const proxy = await startProxy(t, { REDIS_URL: redis.url, ACCEPTORS: '2', SHARDS: '2', RESP_PORT: '0' });
// Traffic on both front ends, so that the labelled series exist.
await redis.client.set('dash:1', 'x');
const http = agent(2);
t.teardown(() => http.close());
for (const key of ['dash:1', 'dash:1', 'dash:absent']) await get(proxy.url, `/${key}`, { dispatcher: http });
await exchange(proxy.respPort!, Buffer.concat([command('GET', 'dash:1'), command('MGET', 'dash:1', 'dash:absent')]), { replies: 2 });
// Redis's tracking table is read by shard 0 once its connection is ready: wait for the first figure.
let text = '';
for (const deadline = Date.now() + 5000; !/^shardcache_redis_tracking_keys /m.test(text) && Date.now() < deadline; await sleep(20)) {
  text = await (await request(`${proxy.admin}/metrics`)).body.text();
}
const metrics: Served = served(text);

t.test('the checker itself: it catches what it is for', async (t) => {
  t.same(problems('sum(rate(shardcache_requests_total[5m]))', metrics), []);
  t.match(problems('sum(rate(shardcache_request_total[5m]))', metrics), ['unknown metric shardcache_request_total']);
  t.match(problems('shardcache_cache_entries{acceptor="0"}', metrics), ['shardcache_cache_entries has no label acceptor']);
  t.match(problems('sum by (shards) (shardcache_cache_entries)', metrics), ['grouping by shards, a label none of its metrics has']);
  t.match(problems('sum(rate(shardcache_requests_total[5m])', metrics), [/does not parse/]);
  t.match(problems('1 + 1', metrics), ['names no metric']);
});

t.test('dashboard: every query uses only what /metrics serves', async (t) => {
  const queries = panels.flatMap((p) => (p.targets ?? []).map((q) => [`${p.title} ${q.refId}`, expand(q.expr)] as const));
  t.ok(queries.length >= 20, `${queries.length} queries`);
  for (const [where, expr] of queries) t.same(problems(expr, metrics), [], where);
  for (const v of dashboard.templating.list) {
    const m = /^label_values\((\w+), (\w+)\)$/.exec(v.query.query);
    t.ok(m !== null && metrics.names.has(m[1]!) && ['instance', 'job'].includes(m[2]!), `variable ${v.name}: ${v.query.query}`);
  }
});

t.test('dashboard: shows what an operator needs', async (t) => {
  const all = panels.flatMap((p) => (p.targets ?? []).map((q) => q.expr)).join('\n');
  const needed = [
    'shardcache_requests_total',
    'shardcache_acceptor_requests_total',
    'shardcache_cache_hits_total',
    'shardcache_cache_misses_total',
    'shardcache_cache_entries',
    'shardcache_cache_bytes',
    'shardcache_redis_command_duration_seconds_bucket',
    'shardcache_event_loop_delay_seconds',
    'shardcache_shed_total',
    'shardcache_shard_restarts_total',
    'shardcache_acceptor_restarts_total',
    'shardcache_tracking_armed',
    'shardcache_redis_up',
    'shardcache_acceptor_connections',
    'shardcache_thread_cpu_seconds_total',
    'shardcache_invalidations_total',
  ];
  for (const name of needed) t.ok(new RegExp(`\\b${name}\\b`).test(all), name);
  t.ok(/histogram_quantile\(0\.99,/.test(all), 'Redis latency p99');
  t.ok(/sum by \(protocol, status\)/.test(all), 'requests by protocol and status');
});

t.test('dashboard: importable (a Prometheus input, unique ids, panels on the grid without overlap)', async (t) => {
  t.same(
    dashboard.__inputs.map((i) => [i.name, i.type, i.pluginId]),
    [['DS_PROMETHEUS', 'datasource', 'prometheus']],
  );
  t.equal(dashboard.uid, 'shardcache');
  t.equal(new Set(panels.map((p) => p.id)).size, panels.length, 'unique panel ids');
  const cells = new Map<string, string>();
  for (const p of panels) {
    const { x, y, w, h } = p.gridPos;
    t.ok(x >= 0 && w > 0 && x + w <= 24, `${p.title}: within 24 columns`);
    for (let i = x; i < x + w; i++)
      for (let j = y; j < y + h; j++) {
        const owner = cells.get(`${i},${j}`);
        if (owner !== undefined) t.fail(`${p.title} overlaps ${owner}`);
        cells.set(`${i},${j}`, p.title);
      }
    if (p.type === 'row') continue;
    t.equal(p.datasource?.uid, '$' + '{DS_PROMETHEUS}', `${p.title}: the imported data source`);
    const refs = (p.targets ?? []).map((q) => q.refId);
    t.ok(refs.length > 0 && new Set(refs).size === refs.length, `${p.title}: queries with distinct refIds`);
  }
});

t.test('alert rules: every expression uses only what /metrics serves; annotations name kept labels', async (t) => {
  for (const r of rules) {
    t.same(problems(r.expr, metrics), [], r.alert);
    t.ok(['critical', 'warning', 'info'].includes(r.labels.severity), `${r.alert}: severity ${r.labels.severity}`);
    t.ok(r.annotations.summary && r.annotations.description, `${r.alert}: summary and description`);
    const kept = resultLabels(r.expr, metrics);
    for (const m of `${r.annotations.summary} ${r.annotations.description}`.matchAll(/\$labels\.(\w+)/g))
      t.ok(kept.has(m[1]!), `${r.alert}: $labels.${m[1]} is kept by the expression`);
  }
});

t.test('alert rules: the failures that matter each have one', async (t) => {
  const byName = new Map(rules.map((r) => [r.alert, r.expr]));
  const expect: [string, RegExp][] = [
    ['ShardcacheRedisLinkDown', /shardcache_redis_up == 0/],
    ['ShardcacheTrackingUnarmed', /shardcache_tracking_armed == 0[\s\S]*invalidation="tracking"/],
    ['ShardcacheShedding', /shardcache_shed_total/],
    ['ShardcacheThreadRestarts', /shardcache_shard_restarts_total[\s\S]*shardcache_acceptor_restarts_total/],
    ['ShardcacheHitRatioCollapse', /shardcache_cache_hits_total[\s\S]*offset/],
    ['ShardcacheTrackingTableNearlyFull', /shardcache_redis_tracking_keys \/ \(shardcache_redis_tracking_table_max_keys > 0\) >= 0\.9/],
  ];
  for (const [name, pattern] of expect) t.match(byName.get(name), pattern, name);
  t.equal(new Set(rules.map((r) => r.alert)).size, rules.length, 'distinct names');
});
