/**
 * The status page's render functions: the states an operator must not miss
 * (red, amber), rates against totals, formatting, and that the source the
 * page ships renders exactly what the server renders when run on its own,
 * outside this module (no hidden reference to anything but each other).
 */
import t from 'tap';
import vm from 'node:vm';
import * as render from '../src/control/status-render.js';
import { STATUS_CSP, STATUS_SCRIPT, statusPage } from '../src/control/status-page.js';
import { takeSnapshot, type StatsSnapshot } from '../src/control/stats-snapshot.js';
import { AcceptorStat, HTTP_STATUSES, httpCounts, shedCounts } from '../src/metrics/acceptor-stats.js';
import { Stat } from '../src/metrics/shard-stats.js';
import { facts, settings, sources } from './helpers/snapshot.js';

const { acceptorRow, count, ms, per, ratio, renderStatus, shardRow, size, uptime } = render;

/** A healthy 2 × 2 proxy's snapshot, `now` ms after the epoch, after `step` is applied to its figures. */
function snapshot(
  now: number,
  step: (src: ReturnType<typeof sources>) => void = () => {},
  over: Parameters<typeof facts>[0] = {},
): StatsSnapshot {
  const src = sources(2, 2);
  for (const s of src.shardStats) [s[Stat.RedisUp], s[Stat.TrackingArmed]] = [1, 1];
  for (const a of src.acceptorStats) a[AcceptorStat.Listening] = 1;
  step(src);
  return { ...takeSnapshot(src, facts(over)), now };
}

/** The class of the row of `kind` `i` in `html`, and each cell's text by field. */
function row(html: string, kind: 'shard' | 'acceptor', i: number): { state: string; cells: Record<string, string> } {
  const m = new RegExp(`<tr data-${kind}="${i}"(?: class="(\\w+)")?>(.*?)</tr>`).exec(html);
  if (m === null) throw new Error(`no ${kind} ${i} row`);
  const cells = Object.fromEntries(
    [...m[2]!.matchAll(/<td data-field="([\w-]+)"[^>]*>(.*?)<\/td>/g)].map((c) => [c[1]!, c[2]!.replace(/<[^>]+>/g, '')]),
  );
  return { state: m[1] ?? '', cells };
}

t.test('formatting', async (t) => {
  t.same([count(0), count(7), count(2.25), count(12.6), count(1234567)], ['0', '7', '2.3', '13', '1,234,567']);
  t.same([size(0), size(1023), size(1536), size(5 * 1024 ** 3)], ['0 B', '1023 B', '1.5 KiB', '5.0 GiB']);
  t.same([ms(0.0042), ms(0.25)], ['4.20 ms', '250.0 ms']);
  t.same([uptime(12.9), uptime(312), uptime(7500), uptime(3 * 86400 + 4 * 3600)], ['12s', '5m 12s', '2h 5m', '3d 4h']);
  t.equal(per(150, undefined, 1), '150', 'no previous figure: the total');
  t.equal(per(150, 50, 2), '50', 'with one: the rate');
  t.equal(per(10, 50, 1), '0', 'a counter that went back (a replaced process) never shows a negative rate');
  t.equal(ratio(0, 0, undefined, undefined), '–');
  t.equal(ratio(3, 1, undefined, undefined), '75.0 %', 'since start without a previous figure');
  t.equal(ratio(13, 2, 3, 1), '90.9 %', 'over the interval with one');
  t.match(ratio(3, 1, 3, 1), /class="dim".*75\.0 %/, 'no request in the interval: since start, dimmed');
  const cpu = (now: number | null, before: number | null | undefined): string => render.cpuCell(now, before, 2).replace(/<[^>]+>/g, '');
  t.same(
    [cpu(null, 1), cpu(3, undefined), cpu(3, null), cpu(3, 2)],
    ['–', '3.0 s', '3.0 s', '50 %'],
    'CPU: unknown, since start, share of a core over 2 s',
  );
  t.equal(render.esc('<b a="1">&\'</b>'), '&#60;b a=&#34;1&#34;&#62;&#38;&#39;&#60;/b&#62;');
});

t.test('shard rows: red while Redis is down or the worker restarts, amber while tracking is unarmed or it sheds', async (t) => {
  const ok = snapshot(0);
  const base = ok.shards[0]!;
  const states = (s: typeof base, b?: typeof base, tracking = true, maxInflight = 10): string =>
    row(shardRow(s, b, 1, tracking, maxInflight), 'shard', 0).state;
  t.equal(states(base), '', 'healthy: no colour');
  t.equal(row(shardRow(base, undefined, 1, true, 10), 'shard', 0).cells.redis, 'up');
  t.equal(states({ ...base, redisUp: false }), 'bad');
  t.equal(row(shardRow({ ...base, redisUp: false }, undefined, 1, true, 10), 'shard', 0).cells.redis, 'down');
  t.equal(states({ ...base, attached: false }), 'bad');
  t.equal(row(shardRow({ ...base, attached: false }, undefined, 1, true, 10), 'shard', 0).cells.redis, 'restarting');
  t.equal(states({ ...base, trackingArmed: false }), 'warn', 'INVALIDATION=tracking and not armed');
  t.equal(states({ ...base, trackingArmed: false }, undefined, false), '', 'INVALIDATION=ttl: never armed, nothing wrong');
  t.equal(row(shardRow({ ...base, trackingArmed: false }, undefined, 1, false, 10), 'shard', 0).cells.tracking, 'off (ttl)');
  t.equal(states({ ...base, shedMisses: 5 }, { ...base, shedMisses: 2 }), 'warn', 'misses refused in the interval');
  t.equal(states({ ...base, shedQueue: 5 }, { ...base, shedQueue: 2 }), 'warn', 'refused by the hand-off bound in the interval');
  t.equal(states({ ...base, shedMisses: 5, shedQueue: 1 }, { ...base, shedMisses: 5, shedQueue: 1 }), '', 'refused before, not now');
  t.equal(states({ ...base, waiting: 10 }), 'warn', 'as first sent: full to MAX_INFLIGHT waiting on Redis');
  t.equal(states({ ...base, waiting: 9, inflight: 5000 }), '', 'requests in flight (hits) are no sign of shedding');
  const cells = row(
    shardRow({ ...base, waiting: 7, shedMisses: 30, shedQueue: 4 }, { ...base, shedMisses: 10, shedQueue: 4 }, 2, true, 10),
    'shard',
    0,
  ).cells;
  t.same([cells.waiting, cells.shed, cells['queue-full']], ['7', '10', '0'], 'waiting now; misses shed and queue full per second, apart');
});

t.test('acceptor rows: red when not listening; RESP columns only with a RESP listener', async (t) => {
  const a = snapshot(0).acceptors[1]!;
  t.equal(row(acceptorRow(a, undefined, 1, true), 'acceptor', 1).state, '');
  t.equal(row(acceptorRow({ ...a, listening: false }, undefined, 1, true), 'acceptor', 1).state, 'bad');
  t.ok('resp-ok' in row(acceptorRow(a, undefined, 1, true), 'acceptor', 1).cells);
  t.notOk('resp-ok' in row(acceptorRow(a, undefined, 1, false), 'acceptor', 1).cells);
});

t.test('the page as first sent shows totals; redrawn from two snapshots it shows rates', async (t) => {
  const before = snapshot(10_000);
  const after = snapshot(12_000, (src) => {
    const s0 = src.shardStats[0]!;
    [s0[Stat.Hits], s0[Stat.Misses], s0[Stat.Entries]] = [300, 100, 40];
    httpCounts(src.acceptorStats[1]!)[200] = 380;
    httpCounts(src.acceptorStats[1]!)[HTTP_STATUSES + 503] = 20;
    s0[Stat.ShedMisses] = 20;
    shedCounts(src.acceptorStats[0]!)[0] = 6;
  });
  const first = renderStatus(after, null);
  t.same(
    [
      row(first, 'shard', 0).cells.requests,
      row(first, 'shard', 0).cells['hit-ratio'],
      row(first, 'acceptor', 1).cells.http,
      row(first, 'acceptor', 1).cells['http-5xx'],
    ],
    ['400', '75.0 %', '400', '20'],
  );
  t.match(first, /<th scope="col">requests<\/th>/);
  const live = renderStatus(after, before);
  t.same(
    [
      row(live, 'shard', 0).cells.requests,
      row(live, 'shard', 0).cells.shed,
      row(live, 'shard', 0).cells['queue-full'],
      row(live, 'acceptor', 1).cells.http,
      row(live, 'acceptor', 1).cells['http-5xx'],
    ],
    ['200', '10', '3', '200', '10'],
    'per second over the 2 s between them',
  );
  t.equal(row(live, 'shard', 0).state, 'warn', 'shed in the interval');
  t.match(live, /<th scope="col">req\/s<\/th>/);
  for (const m of live.matchAll(/<thead>(.*?)<\/thead><tbody><tr[^>]*>(.*?)<\/tr>/g)) {
    t.equal(m[1]!.match(/<th /g)!.length, m[2]!.match(/<td /g)!.length, 'one header per cell');
  }
});

t.test('readiness: the badge says why, escaped', async (t) => {
  const html = renderStatus(
    snapshot(0, () => {}, { problems: () => ['shard 1: redis down', '<script>'] }),
    null,
  );
  t.match(html, /<span id="state" class="badge bad">not ready: shard 1: redis down; &#60;script&#62;<\/span>/);
  t.match(renderStatus(snapshot(0), null), /<span id="state" class="badge ok">ready<\/span>/);
});

t.test('settings: capacity, TTL, invalidation, Redis, listeners', async (t) => {
  const html = render.settingsList({
    ...snapshot(0),
    settings: settings({ cacheMaxBytes: 256 * 1024 ** 2, cacheTtlMs: 0, listen: { http: 'http://h:1', resp: null } }),
  });
  for (const text of [
    '100,000 keys or 256.0 MiB',
    '<dt>TTL</dt><dd>off</dd>',
    '<dt>invalidation</dt><dd>tracking (default)</dd>',
    '<dt>tracking table</dt><dd>–</dd>',
    'standalone <code>redis://127.0.0.1:6379</code>',
    '<dt>RESP</dt><dd>off</dd>',
  ])
    t.ok(html.includes(text), text);
});

t.test('tracking table: its fill, amber from 90%, a dash while unknown, no limit said', async (t) => {
  t.equal(render.trackingTable(null, null), '–');
  t.equal(render.trackingTable(647, 0), '647 keys (no limit)');
  t.equal(render.trackingTable(647, null), '647 keys', 'CONFIG refused: the count alone');
  t.equal(render.trackingTable(647, 1000), '<span id="tracking-table">647 of 1,000 keys (65 %)</span>');
  t.equal(render.trackingTable(900, 1000), '<span id="tracking-table" class="warn">900 of 1,000 keys (90 %)</span>');
  const html = render.settingsList(
    snapshot(
      0,
      (src) => {
        src.shardStats[0]![Stat.TrackingKeys] = 950;
        src.shardStats[0]![Stat.TrackingTableMaxKeys] = 1000;
      },
      { settings: settings({ trackingMode: 'bcast' }) },
    ),
  );
  t.ok(html.includes('<dt>invalidation</dt><dd>tracking (bcast)</dd>'));
  t.ok(
    html.includes('<dt>tracking table</dt><dd><span id="tracking-table" class="warn">950 of 1,000 keys (95 %)</span></dd>'),
    'read from shard 0',
  );
});

t.test('the shipped script: every render function, self-contained, rendering what the server renders', async (t) => {
  const exported = Object.entries(render)
    .filter(([, v]) => typeof v === 'function')
    .map(([name]) => name)
    .sort();
  t.same(render.RENDER_FUNCTIONS.map((f) => f.name).sort(), exported, 'every exported function is shipped');
  t.doesNotThrow(() => new vm.Script(STATUS_SCRIPT), 'the page script parses');
  // Only the shipped source, in a context that has nothing of this module.
  const before = snapshot(1_000);
  const after = snapshot(2_500, (src) => (src.shardStats[1]![Stat.Hits] = 30));
  const context = vm.createContext({ before, after });
  const shipped = render.RENDER_FUNCTIONS.map((f) => f.toString()).join('\n');
  t.equal(vm.runInContext(`${shipped}\nrenderStatus(after, before)`, context), renderStatus(after, before));
  t.equal(vm.runInContext(`${shipped}\nrenderStatus(after, null)`, context), renderStatus(after, null));
});

t.test('the page: the snapshot inline and escaped, a policy that allows only its own script and style', async (t) => {
  const s = snapshot(0, () => {}, { problems: () => ['</script><script>alert(1)</script>'] });
  const page = statusPage(s);
  t.equal(page.match(/<\/script>/g)!.length, 2, 'a problem text cannot close the inline JSON');
  const json = /<script id="snapshot" type="application\/json">(.*?)<\/script>/.exec(page)![1]!;
  t.same(JSON.parse(json), s);
  t.match(STATUS_CSP, /^default-src 'none'; style-src 'sha256-[\w+/=]+'; script-src 'sha256-[\w+/=]+'; connect-src 'self'/);
  t.same(
    [...new Set([...page.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]))].sort(),
    ['metrics', 'stats.json'],
    'links only to its own listener',
  );
});

t.test('files loaded from settings: path, when, and the last reload problem in amber', async (t) => {
  const at = Date.UTC(2026, 11, 7, 2, 3, 4);
  t.equal(render.fileLoad('/etc/a.json', at, undefined), '<code>/etc/a.json</code> loaded 2026-12-07 02:03:04 UTC');
  t.equal(render.fileLoad('/x', 0, undefined), '<code>/x</code> never loaded');
  t.equal(
    render.fileLoad('/x', at, 'not JSON <b>'),
    '<code>/x</code> loaded 2026-12-07 02:03:04 UTC <span class="warn">last reload failed: not JSON &#60;b&#62;</span>',
  );
  const html = render.settingsList({ ...snapshot(0), files: [{ setting: 'ACCESS_FILE', path: '/a', loadedAt: at }] });
  t.ok(html.includes('<dt>ACCESS_FILE</dt><dd><code>/a</code> loaded 2026-12-07 02:03:04 UTC</dd>'), html);
});
