/**
 * Several acceptor threads (`ACCEPTORS=3 SHARDS=2`) on the built proxy, over
 * the network: answers stay right, connections land on every acceptor,
 * coalescing holds across acceptors, RESP pipelines answer in order on each,
 * per-connection features hold on each, and an acceptor killed fails only
 * its own connections and is replaced. MAX_INFLIGHT and MAX_CONNECTIONS
 * across acceptors: acceptors-limits.test.ts. (SIGTERM with several
 * acceptors: faults-shard.test.ts.)
 */
import t from 'tap';
import net from 'node:net';
import { Client, request } from 'undici';
import { agent } from './helpers/http.js';
import { load } from './helpers/load.js';
import { sleep } from './helpers/time.js';
import { samplesOf, scrape, total } from './helpers/metrics.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { command, decodeAll, type Reply } from './helpers/resp.js';
import { getCalls } from './helpers/commandstats.js';
import { acceptedBy, THREADS } from './helpers/acceptors.js';

const redis = await startRedis(t);

t.test('1,000 keys read twice by 10 parallel clients: every answer right; connections land on every acceptor', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, ...THREADS, CACHE_TTL_MS: '60000' });
  const keys = Array.from({ length: 1000 }, (_, i) => `acc:${i}`);
  await redis.client.mset(...keys.flatMap((k) => [k, `value of ${k}`]));
  // Each loop on its own connections: 10 clients × 3 connections spread by the kernel.
  const http = agent(30);
  t.teardown(() => http.close());
  const shots = await load({ base: proxy.url, keys, clients: 10, dispatcher: http, stop: () => false, maxRequests: 2000 });
  t.equal(shots.length, 2000);
  t.same(
    shots.filter((s) => s.status !== 200 || s.body !== `value of ${s.key}`).map((s) => [s.key, s.status, s.body]),
    [],
    'every answer 200 with its own value',
  );
  const accepted = await acceptedBy(proxy.admin, 'http');
  t.ok(
    accepted.every((n) => n > 0),
    `every acceptor accepted connections: ${accepted.join(', ')}`,
  );
  const m = await scrape(proxy.admin);
  const byAcceptor = [0, 1, 2].map((a) => total(m, 'shardcache_acceptor_requests_total', { acceptor: String(a), protocol: 'http' }));
  t.ok(
    byAcceptor.every((n) => n > 0),
    `every acceptor answered requests: ${byAcceptor.join(', ')}`,
  );
  t.equal(
    byAcceptor.reduce((a, b) => a + b, 0),
    2000,
    'and together, all of them',
  );
  t.equal(total(m, 'shardcache_cache_hits_total') + total(m, 'shardcache_cache_misses_total'), 2000);
  t.equal(total(m, 'shardcache_cache_misses_total'), 1000, 'each key missed once, whichever acceptor asked first');
  t.equal((await request(`${proxy.admin}/readyz`)).statusCode, 200);
});

t.test('coalescing across acceptors: 20 clients on different acceptors missing one key cost Redis one read', async (t) => {
  // Redis's reply to the key is held 300 ms inside the shard: every client asks while the one read is in flight.
  const proxy = await startProxy(t, { REDIS_URL: redis.url, ...THREADS, SHARDCACHE_TEST_DELAY_GET: 'held:300' });
  await redis.client.set('held:one', 'the one value');
  await redis.client.config('RESETSTAT');
  // One connection per client, each new: the kernel spreads them over the acceptors.
  const clients = Array.from({ length: 20 }, () => new Client(proxy.url));
  t.teardown(() => Promise.all(clients.map((c) => c.close())));
  const answers = await Promise.all(
    clients.map((c) => c.request({ path: '/held:one', method: 'GET' }).then(async (r) => `${r.statusCode} ${await r.body.text()}`)),
  );
  t.same(new Set(answers), new Set(['200 the one value']), 'all 20 answered with the value');
  t.equal(await getCalls(redis.client), 1, 'one read of the key reached Redis');
  const accepted = await acceptedBy(proxy.admin, 'http');
  t.ok(accepted.filter((n) => n > 0).length >= 2, `the 20 connections came in by several acceptors: ${accepted.join(', ')}`);
  const m = await scrape(proxy.admin);
  t.equal(total(m, 'shardcache_cache_coalesced_total'), 19, '19 joined the first one');
});

t.test('RESP pipelines on several acceptors are answered in order', async (t) => {
  // 9 pipelines of 300 may put 2,700 GETs in flight at once: above the default MAX_INFLIGHT, which would shed some. Order is the point here.
  const proxy = await startProxy(t, { REDIS_URL: redis.url, ...THREADS, RESP_PORT: '0', MAX_INFLIGHT: '10000' });
  const keys = Array.from({ length: 300 }, (_, i) => `pipe:${i}`);
  // Every third key absent: hits, misses and nils interleave, over both shards.
  await redis.client.mset(...keys.filter((_, i) => i % 3 !== 0).flatMap((k) => [k, `v:${k}`]));
  const pipelines = Array.from({ length: 9 }, (_, c) => keys.map((_, i) => keys[(i * 7 + c * 31) % keys.length]!));
  const replies = await Promise.all(
    pipelines.map((order) =>
      pipeline(
        proxy.respPort!,
        order.map((k) => command('GET', k)),
        order.length,
      ),
    ),
  );
  for (let c = 0; c < pipelines.length; c++) {
    const expected = pipelines[c]!.map((k) => (Number(k.split(':')[1]) % 3 === 0 ? null : `v:${k}`));
    t.same(replies[c], expected, `connection ${c}: ${expected.length} replies in request order`);
  }
  const accepted = await acceptedBy(proxy.admin, 'resp');
  t.ok(accepted.filter((n) => n > 0).length >= 2, `RESP connections came in by several acceptors: ${accepted.join(', ')}`);
});

t.test('an acceptor killed: only its connections fail, it is replaced, the others never notice', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, ...THREADS, CACHE_TTL_MS: '60000', SHARDCACHE_TEST_HOOKS: '1' });
  const keys = Array.from({ length: 100 }, (_, i) => `kill:${i}`);
  await redis.client.mset(...keys.flatMap((k) => [k, `v-${k}`]));
  // 30 clients, each one keep-alive connection of its own, reading in a loop.
  const clients = Array.from({ length: 30 }, () => new Client(proxy.url, { pipelining: 1 }));
  t.teardown(() => Promise.all(clients.map((c) => c.destroy())));
  let stop = false;
  const failures: { client: number; at: number }[] = [];
  let wrong = 0;
  let sent = 0;
  const loops = clients.map(async (c, i) => {
    for (let n = 0; !stop; n++) {
      const key = keys[(i * 13 + n) % keys.length]!;
      sent++;
      try {
        const r = await c.request({ path: `/${key}`, method: 'GET' });
        if (r.statusCode !== 200 || (await r.body.text()) !== `v-${key}`) wrong++;
      } catch {
        failures.push({ client: i, at: performance.now() });
      }
      await sleep(2);
    }
  });
  await sleep(400);
  const before = await scrape(proxy.admin);
  const onVictim = total(before, 'shardcache_acceptor_connections', { acceptor: '1', protocol: 'http' });
  t.ok(onVictim > 0, `${onVictim} of the 30 connections are on acceptor 1`);
  const killedAt = performance.now();
  t.equal((await request(`${proxy.admin}/test/kill-acceptor/1`, { method: 'POST' })).statusCode, 200);
  t.equal(
    (await request(`${proxy.admin}/test/kill-acceptor/0`, { method: 'POST' })).statusCode,
    400,
    'acceptor 0 is the main thread: not killable',
  );
  // Keep reading until the replacement listens again, and a while after.
  let replaced = 0;
  for (let i = 0; i < 200 && replaced === 0; i++) {
    await sleep(25);
    const m = await scrape(proxy.admin);
    if (
      total(m, 'shardcache_acceptor_listening', { acceptor: '1' }) === 1 &&
      total(m, 'shardcache_acceptor_restarts_total', { acceptor: '1' }) === 1
    )
      replaced = performance.now();
  }
  t.ok(replaced > 0, `acceptor 1 replaced and listening ${Math.round(replaced - killedAt)} ms after the kill`);
  await sleep(300);
  stop = true;
  await Promise.all(loops);
  const failedClients = new Set(failures.map((f) => f.client));
  t.equal(wrong, 0, 'no wrong answer and no error status on any connection');
  t.ok(failedClients.size <= onVictim, `${failedClients.size} connections failed, no more than the ${onVictim} acceptor 1 held`);
  t.ok(
    failures.every((f) => f.at >= killedAt),
    'nothing failed before the kill',
  );
  t.equal(failures.length, failedClients.size, 'each failed connection failed once, then reconnected and read on');
  t.equal(proxy.child.exitCode, null, 'the process lives');
  t.match(proxy.logs(), /acceptor 1: thread died/);
  // New connections reach the replacement too.
  const after = await acceptedBy(proxy.admin, 'http');
  const fresh = Array.from({ length: 30 }, () => new Client(proxy.url));
  t.teardown(() => Promise.all(fresh.map((c) => c.destroy())));
  await Promise.all(fresh.map((c) => c.request({ path: '/kill:1', method: 'GET' }).then((r) => r.body.dump())));
  const later = await acceptedBy(proxy.admin, 'http');
  t.ok(later[1]! > after[1]!, `the replacement accepts new connections (${later[1]! - after[1]!} of 30)`);
  t.equal((await request(`${proxy.admin}/readyz`)).statusCode, 200, 'ready');
  const loopDelay = samplesOf(await scrape(proxy.admin), 'shardcache_event_loop_delay_seconds');
  t.ok(
    Object.keys(loopDelay).some((k) => k.includes('thread="acceptor-1"')),
    'the replacement reports its event loop',
  );
  t.comment(
    `acceptor kill: sent ${sent}, failed ${failures.length} on ${failedClients.size} connections (acceptor 1 held ${onVictim} of 30), wrong 0; replaced in ${Math.round(replaced - killedAt)} ms`,
  );
});

/** Sends `commands` as one pipeline on a new connection and resolves with the first `count` replies. */
function pipeline(port: number, commands: Buffer[], count: number): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    socket.once('error', reject);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      const replies = decodeAll(Buffer.concat(chunks));
      if (replies.length >= count) {
        socket.destroy();
        resolve(replies);
      }
    });
    socket.write(Buffer.concat(commands));
  });
}

t.test('per-connection features hold on every acceptor: KEY_PREFIX, ETag and 304, RESP AUTH', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, ...THREADS, RESP_PORT: '0', KEY_PREFIX: 'app%3A', RESP_PASSWORD: 'pw' });
  await redis.client.set('app:x', 'the x');
  const clients = Array.from({ length: 12 }, () => new Client(proxy.url));
  t.teardown(() => Promise.all(clients.map((c) => c.close())));
  const first = await clients[0]!.request({ path: '/app:x', method: 'GET' });
  await first.body.dump();
  const etag = first.headers.etag as string;
  const answers = await Promise.all(
    clients.map(async (c) => {
      const denied = await c.request({ path: '/other', method: 'GET' });
      await denied.body.dump();
      const cached = await c.request({ path: '/app:x', method: 'GET', headers: { 'if-none-match': etag } });
      await cached.body.dump();
      return [denied.statusCode, cached.statusCode, cached.headers.etag];
    }),
  );
  t.same(
    new Set(answers.map((a) => a.join(' '))),
    new Set([`403 304 ${etag}`]),
    'every connection: 403 outside KEY_PREFIX, 304 for the cached ETag',
  );
  const resp = await Promise.all(
    Array.from({ length: 9 }, () =>
      pipeline(proxy.respPort!, [command('GET', 'app:x'), command('AUTH', 'wrong'), command('AUTH', 'pw'), command('GET', 'app:x')], 4),
    ),
  );
  for (const r of resp)
    t.same(r, [
      { error: 'NOAUTH Authentication required.' },
      { error: 'WRONGPASS invalid username-password pair or user is disabled.' },
      'OK',
      'the x',
    ]);
  const accepted = [await acceptedBy(proxy.admin, 'http'), await acceptedBy(proxy.admin, 'resp')];
  t.ok(
    accepted.every((by) => by.filter((n) => n > 0).length >= 2),
    `connections on several acceptors: HTTP ${accepted[0]!.join(', ')}; RESP ${accepted[1]!.join(', ')}`,
  );
});
