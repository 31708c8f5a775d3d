/**
 * The status page in a real browser (Debian's Chromium, driven by
 * playwright-core) against the built proxy with ACCEPTORS=2 SHARDS=2: one
 * row per shard and per acceptor with and without JavaScript, counters that
 * move with the traffic sent, the Redis link turning red when Redis stops
 * and green when it returns, a phone-sized screen without sideways
 * scrolling, nothing fetched from anywhere but the admin listener, and a
 * page that says so when the proxy stops answering. Also /stats.json and
 * the page over plain HTTP.
 *
 * SHARDCACHE_SCREENSHOT=docs/status-page.png writes the screenshot shown in
 * the README, taken while the load runs.
 */
import t from 'tap';
import { request } from 'undici';
import type { Page } from 'playwright-core';
import { shardOf } from '../src/routing/hash.js';
import type { StatsSnapshot } from '../src/control/stats-snapshot.js';
import { startBrowser } from './helpers/browser.js';
import { agent } from './helpers/http.js';
import { load } from './helpers/load.js';
import { startProxy, startRedis } from './helpers/processes.js';

const redis = await startRedis(t);
const browser = await startBrowser(t);
const SECRET = 'status-page-secret';

/** Waits until the function `body` (run in the page) returns true; fails the test with `what` after `ms`. */
async function until(page: Page, what: string, body: string, ms = 10000): Promise<void> {
  try {
    // As a function, not a string: the page's policy forbids eval, and Playwright evaluates strings with it.
    await page.waitForFunction(new Function(body) as () => boolean, undefined, { timeout: ms, polling: 50 });
  } catch (err) {
    throw new Error(
      `the page never showed ${what} within ${ms} ms (${(err as Error).message.split('\n')[0]}); it shows:\n${await page.locator('main').textContent()}`,
    );
  }
}

/** The numbers of column `field` in the rows of `kind`. */
async function column(page: Page, kind: 'shard' | 'acceptor', field: string): Promise<number[]> {
  const texts = await page.locator(`tr[data-${kind}] td[data-field="${field}"]`).allTextContents();
  return texts.map((text) => Number(text.replace(/,/g, '')));
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

t.test('the status page of a 2 × 2 proxy, live, as Redis stops and returns', async (t) => {
  const proxy = await startProxy(t, {
    REDIS_URL: `redis://:${SECRET}@127.0.0.1:${redis.port}`,
    ACCEPTORS: '2',
    SHARDS: '2',
    RESP_PORT: '0',
    CACHE_TTL_MS: '60000',
  });
  const admin = new URL(proxy.admin).origin;
  // Keys on both shards, so that both rows move.
  const keys = Array.from({ length: 40 }, (_, i) => `page:${i}`);
  t.same(new Set(keys.map((k) => shardOf(k, 2))), new Set([0, 1]));
  await redis.client.mset(...keys.flatMap((k) => [k, `value of ${k}`]));

  // Without JavaScript: the snapshot of the moment, one row per shard and per acceptor.
  const plain = await browser.newContext({ javaScriptEnabled: false });
  const still = await plain.newPage();
  await still.goto(`${admin}/`);
  t.equal(await still.locator('tr[data-shard]').count(), 2, 'no JavaScript: a row per shard');
  t.equal(await still.locator('tr[data-acceptor]').count(), 2, 'no JavaScript: a row per acceptor');
  t.match(await still.locator('#state').textContent(), /^ready$/);

  const desk = await browser.newContext({ viewport: { width: 1280, height: 560 } });
  const page = await desk.newPage();
  const origins = new Set<string>();
  const errors: string[] = [];
  page.on('request', (r) => origins.add(new URL(r.url()).origin));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(`${admin}/`);
  t.equal(await page.locator('tr[data-shard]').count(), 2, 'a row per shard');
  t.equal(await page.locator('tr[data-acceptor]').count(), 2, 'a row per acceptor');
  await until(page, 'a live update', `return document.getElementById('live').textContent.startsWith('live')`);
  t.same(await column(page, 'shard', 'requests'), [0, 0], 'no traffic yet: 0 req/s on both shards');

  // Traffic: the rates move on both shards and the acceptors, while it runs.
  const http = agent(8);
  t.teardown(() => http.close());
  let running = true;
  const shots = load({ base: proxy.url, keys, clients: 8, dispatcher: http, stop: () => !running, maxRequests: 100000, pauseMs: 2 });
  await until(
    page,
    'requests per second on both shards and the acceptors',
    `
    const n = (sel) => [...document.querySelectorAll(sel)].map((td) => Number(td.textContent.replace(/,/g, '')));
    return n('tr[data-shard] td[data-field="requests"]').every((v) => v > 0) && n('tr[data-acceptor] td[data-field="http"]').some((v) => v > 0)`,
  );
  t.ok(sum(await column(page, 'acceptor', 'http-2xx')) > 0, 'the 2xx column moved');
  if (process.env.SHARDCACHE_SCREENSHOT) await page.screenshot({ path: process.env.SHARDCACHE_SCREENSHOT, fullPage: true });
  running = false;
  const sent = (await shots).length;
  t.ok(
    (await shots).every((s) => s.status === 200),
    `${sent} requests, all 200`,
  );

  // The totals of the page as first sent add up to what was sent. A shard publishes its counters just
  // after posting a batch's answers, so the last few may land a moment after their answers did.
  for (const deadline = Date.now() + 3000; Date.now() < deadline; ) {
    await still.reload();
    if (sum(await column(still, 'shard', 'requests')) === sent) break;
  }
  t.equal(sum(await column(still, 'shard', 'requests')), sent, 'shards: requests since start = requests sent');
  t.equal(sum(await column(still, 'acceptor', 'http')), sent, 'acceptors: HTTP answers since start = requests sent');
  t.equal(sum(await column(still, 'acceptor', 'http-2xx')), sent);
  t.same(
    await column(still, 'shard', 'entries'),
    [0, 1].map((s) => keys.filter((k) => shardOf(k, 2) === s).length),
    'every key cached on its shard',
  );

  // Redis stops: both shards turn red, and the page says why it is not ready.
  await redis.stop();
  await until(
    page,
    'both Redis links down, in red',
    `
    return [...document.querySelectorAll('tr[data-shard]')].every((tr) => tr.className === 'bad' && tr.querySelector('[data-field="redis"]').textContent === 'down')
    && document.getElementById('state').className.includes('bad')`,
  );
  t.match(await page.locator('#state').textContent(), /not ready: shard 0: redis down; shard 1: redis down/);
  await redis.restart();
  await until(
    page,
    'both links back up and tracking armed again',
    `
    return [...document.querySelectorAll('tr[data-shard]')].every((tr) => tr.className === '' && tr.querySelector('[data-field="tracking"]').textContent === 'armed')`,
  );

  // A phone: rows become cards; nothing wider than the screen.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const small = await phone.newPage();
  await small.goto(`${admin}/`);
  await until(small, 'a live update on the phone', `return document.getElementById('live').textContent.startsWith('live')`);
  t.equal(await small.evaluate('document.documentElement.scrollWidth'), 390, 'no sideways scrolling at 390 px');
  t.equal(await small.evaluate(`getComputedStyle(document.querySelector('thead')).display`), 'none', 'rows as cards: no table header');

  t.same([...origins], [admin], 'every request went to the admin listener, and nowhere else');
  t.same(errors, [], 'no script error and no policy violation');

  // The proxy stops: the page says it is not answering rather than freezing.
  await proxy.stop();
  await until(page, 'that the proxy does not answer', `return document.getElementById('live').className === 'bad'`);
  t.match(await page.locator('#live').textContent(), /not answering/);
  await Promise.all([plain.close(), desk.close(), phone.close()]);
});

t.test('/stats.json and the page over plain HTTP', async (t) => {
  if (!(await redis.client.ping().catch(() => false))) await redis.restart();
  const proxy = await startProxy(t, {
    REDIS_URL: `redis://:${SECRET}@127.0.0.1:${redis.port}`,
    ACCEPTORS: '2',
    SHARDS: '2',
    INVALIDATION: 'ttl',
  });
  const res = await request(`${proxy.admin}/stats.json`);
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /^application\/json/);
  t.equal(res.headers['cache-control'], 'no-store');
  const text = await res.body.text();
  t.notMatch(text, SECRET, 'the Redis password is never shown');
  const s = JSON.parse(text) as StatsSnapshot;
  t.same(
    [s.shards.length, s.acceptors.length, s.settings.redis.address, s.settings.invalidation, s.settings.listen.resp],
    [2, 2, `redis://:***@127.0.0.1:${redis.port}`, 'ttl', null],
  );
  t.ok(
    s.shards.every((x) => x.redisUp && x.attached && !x.trackingArmed),
    'INVALIDATION=ttl: Redis up, tracking never armed',
  );
  t.ok(
    s.acceptors.every((a) => a.listening && a.cpuSeconds !== null),
    'every acceptor listens and has a CPU figure',
  );

  const page = await request(`${proxy.admin}/`);
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-type'], /^text\/html/);
  t.match(page.headers['content-security-policy'], /^default-src 'none'/);
  const html = await page.body.text();
  t.notMatch(html, SECRET);
  t.equal(html.match(/<tr data-shard="\d+"/g)?.length, 2);
  t.match(
    html,
    /<td data-field="tracking" data-label="tracking"><span>off \(ttl\)<\/span><\/td>/,
    'tracking off, not a warning, with INVALIDATION=ttl',
  );
  const head = await request(`${proxy.admin}/stats.json`, { method: 'HEAD' });
  t.equal(head.statusCode, 200);
  t.equal(await head.body.text(), '');
  const post = await request(`${proxy.admin}/`, { method: 'POST' });
  t.equal(post.statusCode, 405);
  await post.body.dump();
  const missing = await request(`${proxy.admin}/nothing`);
  t.match(await missing.body.text(), /try \/ \(status page\), \/stats.json, \/metrics/);
});
