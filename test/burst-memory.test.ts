/**
 * Memory stays bounded through a burst (issue 25): 10,000 connections, the
 * default MAX_CONNECTIONS, each send one GET at once, half of them for
 * cached keys and half for keys the cache has not seen, against the built
 * proxy with its defaults and a real redis-server. The proxy's peak RSS
 * (VmHWM) must stay within the bound docs/configuration.md states.
 */
import t from 'tap';
import { scrape, total } from './helpers/metrics.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { crowd, getAll, getEach, residentMiB } from './helpers/sockets.js';
import { openFileLimit } from '../src/file-limit.js';

/** Connections, the default MAX_CONNECTIONS; the probe of `crowd` is one of them. */
const CONNECTIONS = 10_000;
const HITS = CONNECTIONS / 2;
/** The bound docs/configuration.md#load-shedding states for this burst, in MiB. */
const BOUND_MIB = 512;

const redis = await startRedis(t);

t.test(`${CONNECTIONS} connections × 1 request, hits and misses mixed: peak RSS within ${BOUND_MIB} MiB`, async (t) => {
  t.ok(
    openFileLimit()! > CONNECTIONS + 500,
    `open-file limit ${openFileLimit()}: ${CONNECTIONS} sockets here, as many in the proxy (raise ulimit -n otherwise)`,
  );
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1' });
  const pid = proxy.child.pid!;
  const keys = Array.from({ length: CONNECTIONS }, (_, i) => `bm:${i}`);
  await redis.client.mset(...keys.flatMap((k) => [k, `value of ${k}`]));
  const started = residentMiB(pid);
  const { probe, sockets } = await crowd(t, proxy, CONNECTIONS - 1, '/bm:warm');
  const all = [probe, ...sockets];
  const open = residentMiB(pid);
  // The hit half is cached first, 500 at a time (under MAX_INFLIGHT, so none is shed).
  for (let i = 0; i < HITS; i += 500) {
    const warm = await getAll(all.slice(i, i + 500), (j) => `/${keys[i + j]}`);
    t.ok(
      warm.every((a) => a.status === 200),
      `keys ${i}–${i + 499} cached`,
      { diagnostic: false },
    );
  }
  const before = residentMiB(pid);
  const answers = await Promise.all(getEach(all, (i) => `/${keys[i]}`));
  const after = residentMiB(pid);
  const hits = answers.slice(0, HITS);
  const misses = answers.slice(HITS);
  t.ok(
    hits.every((a, i) => a.status === 200 && a.body === `value of ${keys[i]}`),
    `every hit answered 200 with its value (${hits.filter((a) => a.status === 200).length} of ${HITS})`,
  );
  const served = misses.filter((a, i) => a.status === 200 && a.body === `value of ${keys[HITS + i]}`).length;
  const shed = misses.filter((a) => a.status === 503 && a.retryAfter === '1').length;
  t.equal(
    served + shed,
    misses.length,
    `every miss answered 200 with its value (${served}) or shed with 503 and Retry-After (${shed}), nothing else`,
  );
  const m = await scrape(proxy.admin);
  t.equal(total(m, 'shardcache_shed_total', { reason: 'misses' }), shed, 'each 503 a miss shed past MAX_INFLIGHT');
  t.equal(total(m, 'shardcache_shed_total', { reason: 'queue' }), 0, 'none refused by the hand-off bound');
  t.ok(after.peak <= BOUND_MIB, `peak RSS ${after.peak.toFixed(0)} MiB within ${BOUND_MIB} MiB`);
  const slowest = Math.max(...answers.map((a) => a.ms));
  t.comment(
    `RSS at start ${started.now.toFixed(0)} MiB; ${CONNECTIONS} connections open ${open.now.toFixed(0)} MiB (${(((open.now - started.now) * 1024) / CONNECTIONS).toFixed(1)} KiB each); ` +
      `${HITS} cached ${before.now.toFixed(0)} MiB; after the burst ${after.now.toFixed(0)} MiB, peak ${after.peak.toFixed(0)} MiB; ` +
      `${HITS} hits × 200, misses ${served} × 200 and ${shed} × 503; the last answer after ${Math.round(slowest)} ms`,
  );
});
