/**
 * The status page's body, rendered from a `/stats.json` snapshot. The same
 * functions run in two places: on the server, for the page as first sent
 * (what a browser without JavaScript shows: totals since start), and in the
 * browser, every second, from the last two snapshots (rates over the last
 * interval). The page ships their source (`RENDER_FUNCTIONS`, through
 * `Function.prototype.toString`), so there is one renderer, type-checked,
 * not a second copy in a string.
 *
 * Hence the rules of this file: only `function` declarations, each using
 * nothing but its arguments, the other functions listed in
 * `RENDER_FUNCTIONS` and what both Node and a browser have (no imports, no
 * module constants, no DOM).
 */
import type { AcceptorStatus, ShardStatus, StatsSnapshot } from './stats-snapshot.js';

/** Escapes text for HTML. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A count with thousands separators; rates under 10 keep one decimal. */
export function count(n: number): string {
  const fixed = n !== 0 && Math.abs(n) < 10 && !Number.isInteger(n) ? n.toFixed(1) : n.toFixed(0);
  return fixed.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Bytes in B, KiB, MiB or GiB. */
export function size(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${n.toFixed(1)} ${units[u]}`;
}

/** Seconds as milliseconds, to a tenth. */
export function ms(seconds: number): string {
  return `${(seconds * 1000).toFixed(seconds < 0.01 ? 2 : 1)} ms`;
}

/** A duration in seconds as "3d 4h", "2h 5m", "5m 12s" or "12s". */
export function uptime(seconds: number): string {
  const s = Math.floor(seconds);
  const [d, h, m] = [Math.floor(s / 86400), Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60)];
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  return m > 0 ? `${m}m ${s % 60}s` : `${s}s`;
}

/**
 * How a counter reads: with the previous snapshot, its rate per second over
 * the interval; without (the page as first sent), its total.
 */
export function per(now: number, before: number | undefined, seconds: number): string {
  return before === undefined ? count(now) : count(Math.max(0, now - before) / seconds);
}

/**
 * Hits ÷ (hits + misses): since start without the previous figures; with
 * them, over the interval, or since start (dimmed) when it saw no request.
 */
export function ratio(hits: number, misses: number, hitsBefore: number | undefined, missesBefore: number | undefined): string {
  const percent = (h: number, m: number): string => `${((100 * h) / (h + m)).toFixed(1)} %`;
  if (hits + misses === 0) return '–';
  if (hitsBefore === undefined || missesBefore === undefined) return percent(hits, misses);
  const [dh, dm] = [hits - hitsBefore, misses - missesBefore];
  if (dh + dm > 0) return percent(dh, dm);
  return `<span class="dim" title="since start: no requests in the last interval">${percent(hits, misses)}</span>`;
}

/** A table cell; `label` names the column on a phone, where rows become cards. */
export function cell(field: string, label: string, html: string, state = ''): string {
  // One child, so that a phone's label: value line has exactly two sides.
  return `<td data-field="${field}" data-label="${label}"${state ? ` class="${state}"` : ''}><span>${html}</span></td>`;
}

/** CPU: the share of one core over the interval, or seconds since start. */
export function cpuCell(now: number | null, before: number | null | undefined, seconds: number): string {
  if (now === null) return cell('cpu', 'CPU', '–');
  if (before === undefined || before === null) return cell('cpu', 'CPU', `${now.toFixed(1)} s`);
  return cell('cpu', 'CPU', `${((100 * Math.max(0, now - before)) / seconds).toFixed(0)} %`);
}

/** One shard's row; red while Redis is unreachable or the worker restarts, amber while tracking is unarmed or it sheds. */
export function shardRow(s: ShardStatus, b: ShardStatus | undefined, seconds: number, tracking: boolean, maxInflight: number): string {
  const redis = !s.attached ? 'restarting' : s.redisUp ? 'up' : 'down';
  const armed = !tracking ? 'off (ttl)' : s.trackingArmed ? 'armed' : 'unarmed';
  const unarmed = tracking && !s.trackingArmed;
  // Shedding now: refusals in the last interval or, in the page as first sent, a shard full to MAX_INFLIGHT.
  const missesShed = b === undefined ? s.waiting >= maxInflight : s.shedMisses > b.shedMisses;
  const queueFull = b !== undefined && s.shedQueue > b.shedQueue;
  const shedding = missesShed || queueFull;
  const state = redis !== 'up' ? 'bad' : unarmed || shedding ? 'warn' : '';
  return `<tr data-shard="${s.shard}"${state ? ` class="${state}"` : ''}>${[
    cell('shard', 'shard', String(s.shard)),
    cell('requests', b ? 'req/s' : 'requests', per(s.hits + s.misses, b && b.hits + b.misses, seconds)),
    cell('hit-ratio', 'hit ratio', ratio(s.hits, s.misses, b?.hits, b?.misses)),
    cell('entries', 'entries', count(s.entries)),
    cell('bytes', 'bytes', size(s.bytes)),
    cell('evicted', b ? 'evicted/s' : 'evicted', per(s.evicted, b?.evicted, seconds)),
    cell('expired', b ? 'expired/s' : 'expired', per(s.expired, b?.expired, seconds)),
    cell('coalesced', b ? 'coalesced/s' : 'coalesced', per(s.coalesced, b?.coalesced, seconds)),
    cell('inflight', 'in flight', count(s.inflight)),
    cell('waiting', 'waiting', count(s.waiting)),
    cell('shed', b ? 'misses shed/s' : 'misses shed', per(s.shedMisses, b?.shedMisses, seconds), missesShed ? 'warn' : ''),
    cell('queue-full', b ? 'queue full/s' : 'queue full', per(s.shedQueue, b?.shedQueue, seconds), queueFull ? 'warn' : ''),
    cell('redis', 'Redis', redis, redis === 'up' ? 'ok' : 'bad'),
    cell('reconnects', 'reconnects', `<span title="${count(s.readsResent)} reads resent">${count(s.redisReconnects)}</span>`),
    cell('tracking', 'tracking', armed, unarmed ? 'warn' : tracking ? 'ok' : ''),
    cell('restarts', 'restarts', count(s.restarts)),
    cell('loop', 'loop p99', `<span title="median ${ms(s.loopDelay.p50)}, max ${ms(s.loopDelay.max)}">${ms(s.loopDelay.p99)}</span>`),
    cpuCell(s.cpuSeconds, b?.cpuSeconds, seconds),
  ].join('')}</tr>`;
}

/** One acceptor's row; red while it does not listen. RESP columns only when the RESP listener runs. */
export function acceptorRow(a: AcceptorStatus, b: AcceptorStatus | undefined, seconds: number, resp: boolean): string {
  const http = a.http['2xx'] + a.http['3xx'] + a.http['4xx'] + a.http['5xx'];
  const httpBefore = b && b.http['2xx'] + b.http['3xx'] + b.http['4xx'] + b.http['5xx'];
  const unit = b ? '/s' : '';
  const cells = [
    cell('acceptor', 'acceptor', a.acceptor === 0 ? '0 <span class="dim">main</span>' : String(a.acceptor)),
    cell('listening', 'listening', a.listening ? 'yes' : 'no', a.listening ? 'ok' : 'bad'),
    cell('http', `HTTP${unit}`, per(http, httpBefore, seconds)),
    ...(['2xx', '3xx', '4xx', '5xx'] as const).map((c) =>
      cell(
        `http-${c}`,
        `${c}${unit}`,
        per(a.http[c], b?.http[c], seconds),
        c === '5xx' && (b ? a.http[c] > b.http[c] : false) ? 'warn' : '',
      ),
    ),
  ];
  if (resp) {
    const total = a.resp.ok + a.resp.nil + a.resp.error + a.resp.shed;
    const before = b && b.resp.ok + b.resp.nil + b.resp.error + b.resp.shed;
    cells.push(cell('resp', `RESP${unit}`, per(total, before, seconds)));
    for (const o of ['ok', 'nil', 'error', 'shed'] as const)
      cells.push(cell(`resp-${o}`, `${o}${unit}`, per(a.resp[o], b?.resp[o], seconds)));
  }
  const conns = resp ? `${count(a.connections.http)} / ${count(a.connections.resp)}` : count(a.connections.http);
  cells.push(
    cell('connections', resp ? 'open HTTP / RESP' : 'open connections', conns),
    cell('refused', b ? 'refused/s' : 'refused', per(a.refused.http + a.refused.resp, b && b.refused.http + b.refused.resp, seconds)),
    cell('restarts', 'restarts', count(a.restarts)),
    cell('loop', 'loop p99', `<span title="median ${ms(a.loopDelay.p50)}, max ${ms(a.loopDelay.max)}">${ms(a.loopDelay.p99)}</span>`),
    cpuCell(a.cpuSeconds, b?.cpuSeconds, seconds),
  );
  return `<tr data-acceptor="${a.acceptor}"${a.listening ? '' : ' class="bad"'}>${cells.join('')}</tr>`;
}

/** A table's header from the labels of its first row's cells (so header and cells cannot disagree). */
export function table(id: string, caption: string, rows: string[]): string {
  const labels = [...(rows[0] ?? '').matchAll(/data-label="([^"]*)"/g)].map((m) => `<th scope="col">${m[1]}</th>`);
  return `<section><h2>${caption}</h2><div class="scroll"><table id="${id}"><thead><tr>${labels.join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div></section>`;
}

/** The settings an operator looks for first, as a definition list. */
export function settingsList(s: StatsSnapshot): string {
  const c = s.settings;
  const ms0 = (n: number): string => (n === 0 ? 'off' : `${count(n)} ms`);
  const items: [string, string][] = [
    ['shards × acceptors', `${c.shards} × ${c.acceptors}`],
    ['capacity', `${count(c.cacheCapacity)} keys${c.cacheMaxBytes > 0 ? ` or ${size(c.cacheMaxBytes)}` : ''}`],
    ['TTL', ms0(c.cacheTtlMs)],
    ['invalidation', c.invalidation === 'tracking' ? `tracking (${c.trackingMode})` : c.invalidation],
    ['tracking table', trackingTable(s.trackingTable.keys, s.trackingTable.maxKeys)],
    ['Redis', `${esc(c.redis.mode)} <code>${esc(c.redis.address)}</code>`],
    ['HTTP', `<code>${esc(c.listen.http)}</code>`],
    ['RESP', c.listen.resp === null ? 'off' : `<code>${esc(c.listen.resp)}</code>`],
    ['max waiting on Redis', `${count(c.maxInflight)} per shard`],
    ['max connections', count(c.maxConnections)],
    ['stale if error', ms0(c.staleIfErrorMs)],
    ['negative TTL', ms0(c.negativeTtlMs)],
    ...s.files.map((f): [string, string] => [esc(f.setting), fileLoad(f.path, f.loadedAt, f.error)]),
  ];
  return `<dl class="settings">${items.map(([k, v]) => `<div><dt>${k}</dt><dd>${v}</dd></div>`).join('')}</dl>`;
}

/** A file loaded from a setting: its path, when it was last loaded, and the last reload's problem (amber). */
export function fileLoad(path: string, loadedAt: number, error: string | undefined): string {
  const when = loadedAt === 0 ? 'never loaded' : `loaded ${new Date(loadedAt).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
  return `<code>${esc(path)}</code> ${when}${error === undefined ? '' : ` <span class="warn">last reload failed: ${esc(error)}</span>`}`;
}

/**
 * Redis's tracking table as read by shard 0: its fill, amber from 90%
 * (where the proxy's log warns); a dash while unknown (not read yet, or INFO
 * refused).
 */
export function trackingTable(keys: number | null, maxKeys: number | null): string {
  if (keys === null) return '–';
  if (maxKeys === null || maxKeys === 0) return `${count(keys)} keys${maxKeys === 0 ? ' (no limit)' : ''}`;
  const percent = (100 * keys) / maxKeys;
  return `<span id="tracking-table"${percent >= 90 ? ' class="warn"' : ''}>${count(keys)} of ${count(maxKeys)} keys (${percent.toFixed(0)} %)</span>`;
}

/**
 * The page's body for snapshot `s`; with `b`, the snapshot before it,
 * counters read as rates over the time between the two.
 */
export function renderStatus(s: StatsSnapshot, b: StatsSnapshot | null): string {
  const seconds = b === null ? 1 : Math.max(0.001, (s.now - b.now) / 1000);
  const prev = <T>(list: T[] | undefined, i: number): T | undefined => (list === undefined ? undefined : list[i]);
  const tracking = s.settings.invalidation === 'tracking';
  const shards = s.shards.map((x, i) => shardRow(x, prev(b?.shards, i), seconds, tracking, s.settings.maxInflight));
  const acceptors = s.acceptors.map((x, i) => acceptorRow(x, prev(b?.acceptors, i), seconds, s.settings.listen.resp !== null));
  const sumOf = (list: ShardStatus[] | undefined, pick: (x: ShardStatus) => number): number | undefined =>
    list?.reduce((t, x) => t + pick(x), 0);
  const [hits, misses] = [sumOf(s.shards, (x) => x.hits)!, sumOf(s.shards, (x) => x.misses)!];
  const ready = s.problems.length === 0;
  const summary = [
    `<span id="state" class="badge ${ready ? 'ok' : 'bad'}">${ready ? 'ready' : `not ready: ${esc(s.problems.join('; '))}`}</span>`,
    `<span><b>${per(hits + misses, b ? sumOf(b.shards, (x) => x.hits + x.misses) : undefined, seconds)}</b> ${b ? 'req/s' : 'requests'}</span>`,
    `<span><b>${ratio(
      hits,
      misses,
      sumOf(b?.shards, (x) => x.hits),
      sumOf(b?.shards, (x) => x.misses),
    )}</b> hits</span>`,
    `<span><b>${count(sumOf(s.shards, (x) => x.entries)!)}</b> entries, <b>${size(sumOf(s.shards, (x) => x.bytes)!)}</b></span>`,
    `<span>up <b>${uptime(s.uptimeSeconds)}</b></span>`,
  ];
  return [
    `<div class="summary">${summary.join('')}</div>`,
    table('shards', 'Shards', shards),
    table('acceptors', 'Acceptors', acceptors),
    `<section><h2>Settings</h2>${settingsList(s)}</section>`,
    `<p class="foot">shardcache ${esc(s.version)} · Node ${esc(s.node)} · pid ${s.pid} · ${b ? 'rates over the last' : 'totals since start; this page updates every second with JavaScript'}${b ? ` ${seconds.toFixed(1)} s` : ''} · <a href="stats.json">stats.json</a> · <a href="metrics">metrics</a></p>`,
  ].join('');
}

/** Every function above, for the page to ship their source. */
export const RENDER_FUNCTIONS: readonly ((...args: never[]) => string)[] = [
  esc,
  count,
  size,
  ms,
  uptime,
  per,
  ratio,
  cell,
  cpuCell,
  shardRow,
  acceptorRow,
  table,
  trackingTable,
  fileLoad,
  settingsList,
  renderStatus,
];
