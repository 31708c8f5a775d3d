/**
 * Limits that hold for the whole proxy with several acceptor threads
 * (`ACCEPTORS=3 SHARDS=2`), over the network: MAX_INFLIGHT for a shard and
 * MAX_CONNECTIONS for the process, whichever acceptor a connection lands on.
 * The rest of the acceptor tests: acceptors.test.ts.
 */
import t from 'tap';
import net from 'node:net';
import { Client, request } from 'undici';
import { shardOf } from '../src/routing/hash.js';
import { sleep } from './helpers/time.js';
import { scrape, total } from './helpers/metrics.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { acceptedBy, THREADS } from './helpers/acceptors.js';

const redis = await startRedis(t);

t.test('MAX_INFLIGHT holds for the shard across all acceptors', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, ...THREADS, MAX_INFLIGHT: '4', SHARDCACHE_TEST_DELAY_GET: 'cap:400' });
  const keys = Array.from({ length: 200 }, (_, i) => `cap:${i}`)
    .filter((k) => shardOf(k, 2) === 0)
    .slice(0, 20);
  await redis.client.mset(...keys.flatMap((k) => [k, 'v']));
  const clients = keys.map(() => new Client(proxy.url));
  t.teardown(() => Promise.all(clients.map((c) => c.close())));
  const statuses = await Promise.all(
    clients.map((c, i) =>
      c.request({ path: `/${keys[i]}`, method: 'GET' }).then(async (r) => {
        await r.body.text();
        return r.statusCode;
      }),
    ),
  );
  t.equal(statuses.filter((s) => s === 200).length, 4, 'exactly MAX_INFLIGHT (4) went to the shard');
  t.equal(statuses.filter((s) => s === 503).length, 16, 'the other 16 were shed at once, whichever acceptor they came by');
  const m = await scrape(proxy.admin);
  t.equal(total(m, 'shardcache_shed_total', { shard: '0' }), 16);
  t.equal(total(m, 'shardcache_inflight_requests'), 0, 'nothing left in flight');
  const accepted = await acceptedBy(proxy.admin, 'http');
  t.ok(accepted.filter((n) => n > 0).length >= 2, `the connections came in by several acceptors: ${accepted.join(', ')}`);
});

t.test('MAX_CONNECTIONS holds for the whole process, whichever acceptor a connection lands on', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, ...THREADS, MAX_CONNECTIONS: '5' });
  const port = Number(new URL(proxy.url).port);
  const sockets = await Promise.all(
    Array.from(
      { length: 12 },
      () =>
        new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(s));
          s.once('error', reject);
        }),
    ),
  );
  t.teardown(() => {
    for (const s of sockets) s.destroy();
  });
  const open = await Promise.all(
    sockets.map(
      (s) =>
        new Promise<boolean>((resolve) => {
          // A refused connection is closed at once; an admitted one stays open until its own request.
          const timer = setTimeout(() => resolve(true), 300);
          s.once('close', () => {
            clearTimeout(timer);
            resolve(false);
          });
        }),
    ),
  );
  t.equal(open.filter(Boolean).length, 5, '5 connections stay open');
  const m = await scrape(proxy.admin);
  t.equal(total(m, 'shardcache_refused_connections_total', { protocol: 'http' }), 7, '7 were closed at once');
  t.equal(total(m, 'shardcache_acceptor_connections', { protocol: 'http' }), 5, 'the acceptors hold 5 between them');
  for (const s of sockets) s.destroy();
  await sleep(100);
  const again = await request(`${proxy.url}/anything`);
  t.equal(again.statusCode, 404, 'once they close, a new connection is let in');
  await again.body.dump();
});
