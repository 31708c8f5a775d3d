/**
 * The status page (`GET /` on the admin listener): one self-contained HTML
 * document, in the manner of HAProxy's stats page: no CDN, no web font, no
 * framework, no build step. As sent, it holds the snapshot of the moment as
 * plain tables (all a browser without JavaScript needs); its script then
 * reads `/stats.json` every second and redraws the tables with rates over
 * the last interval, through the same render functions (`status-render.ts`).
 *
 * Red marks a shard whose Redis link is down or whose worker is restarting,
 * and an acceptor that does not listen; amber a shard whose tracking is
 * unarmed (with INVALIDATION=tracking) or that is shedding. On a narrow
 * screen each row becomes a card of label: value lines.
 */
import { createHash } from 'node:crypto';
import { RENDER_FUNCTIONS, renderStatus } from './status-render.js';
import type { StatsSnapshot } from './stats-snapshot.js';

const CSS = `
:root{--fg:#1d2329;--dim:#6a737d;--bg:#fff;--line:#e3e6ea;--head:#f5f7f9;--ok:#1a7f37;--bad:#b3261e;--bad-bg:#fde7e6;--warn:#8a5a00;--warn-bg:#fff4d6}
@media (prefers-color-scheme:dark){:root{--fg:#e6e8eb;--dim:#9aa4ae;--bg:#15181c;--line:#2c3138;--head:#1e2227;--ok:#57c26b;--bad:#ff8a80;--bad-bg:#3d1b1a;--warn:#f2c14e;--warn-bg:#3a300f}}
*{box-sizing:border-box}
body{margin:0;padding:12px 16px 24px;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 12px;margin-bottom:8px}
h1{font-size:20px;margin:0}
h2{font-size:15px;margin:18px 0 6px}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.dim,.foot,#live{color:var(--dim)}
#live.bad{color:var(--bad)}
.summary{display:flex;flex-wrap:wrap;gap:6px 18px;align-items:center}
.badge{padding:2px 10px;border-radius:10px;font-weight:600}
.badge.ok{background:var(--ok);color:var(--bg)}
.badge.bad{background:var(--bad);color:var(--bg)}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-variant-numeric:tabular-nums;white-space:nowrap}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:right}
th{background:var(--head);font-weight:600;font-size:12px}
th:first-child,td:first-child{text-align:left}
tr.bad td{background:var(--bad-bg)}
tr.warn td{background:var(--warn-bg)}
td.ok{color:var(--ok)}
td.bad{color:var(--bad);font-weight:700}
td.warn,dd .warn{color:var(--warn);font-weight:700}
.settings{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:0 24px;margin:0}
.settings div{display:flex;gap:8px;border-bottom:1px solid var(--line);padding:3px 0}
.settings dt{color:var(--dim);min-width:130px}
.settings dd{margin:0;overflow-wrap:anywhere}
.foot{margin-top:18px;font-size:12px}
a{color:inherit}
@media (max-width:700px){
 body{padding:10px}
 table,thead,tbody,tr,td{display:block;white-space:normal}
 thead{display:none}
 tr{border:1px solid var(--line);border-radius:8px;margin:8px 0;padding:4px 0}
 td{display:flex;justify-content:space-between;gap:12px;border:0;padding:2px 10px}
 td::before{content:attr(data-label);color:var(--dim);text-align:left}
 td:first-child{font-weight:700}
}`;

/**
 * The page's own loop: fetch the next snapshot a second after the last
 * answer (never two in the air), redraw from it and the one before, and say
 * when the proxy stops answering. Plain ES2020 for any current browser.
 */
const CLIENT = `
(function () {
  var main = document.getElementById('status');
  var live = document.getElementById('live');
  var prev = JSON.parse(document.getElementById('snapshot').textContent);
  function tick() {
    fetch('stats.json', { cache: 'no-store' })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(function (s) {
        main.innerHTML = renderStatus(s, prev);
        prev = s;
        live.className = '';
        live.textContent = 'live · ' + new Date(s.now).toLocaleTimeString();
      })
      .catch(function (e) {
        live.className = 'bad';
        live.textContent = 'not answering (' + e.message + ') · retrying';
      })
      .then(function () { setTimeout(tick, 1000); });
  }
  setTimeout(tick, 1000);
})();`;

/** The client script: the render functions' source, then the loop. Built once. */
const SCRIPT = `'use strict';\n${RENDER_FUNCTIONS.map((f) => f.toString()).join('\n')}\n${CLIENT}`;

/** JSON that is safe inside a `<script>` element (no `</script>`, no `<!--`). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/** The whole page for snapshot `s`. */
export function statusPage(s: StatsSnapshot): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>shardcache status</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>shardcache</h1><span id="live">snapshot of ${new Date(s.now).toISOString().replace('T', ' ').slice(0, 19)} UTC</span></header>
<main id="status">${renderStatus(s, null)}</main>
<script id="snapshot" type="application/json">${scriptJson(s)}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

/** The page's inline script, for a test to parse. */
export const STATUS_SCRIPT = SCRIPT;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * The page's Content-Security-Policy: its own inline style and script (by
 * hash) and requests to its own origin, nothing else; a page that tried to
 * load anything from elsewhere would be stopped by the browser.
 */
export const STATUS_CSP = `default-src 'none'; style-src ${sha256(CSS)}; script-src ${sha256(SCRIPT)}; connect-src 'self'; base-uri 'none'; form-action 'none'`;
