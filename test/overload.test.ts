/**
 * Overload and slow clients against the built proxy: MAX_INFLIGHT answers
 * 503 at once and service resumes; header timeouts close slowloris
 * connections while other clients are served.
 */
import net from 'node:net';
import t from 'tap';
import { request } from 'undici';
import { agent, get } from './helpers/http.js';
import { sleep } from './helpers/time.js';
import { scrape, total } from './helpers/metrics.js';
import { command, decodeAll, exchange } from './helpers/resp.js';
import { startProxy, startRedis } from './helpers/processes.js';

const redis = await startRedis(t);

t.test('MAX_INFLIGHT exceeded → 503 with Retry-After at once, then normal service', async (t) => {
  const http = agent(32);
  t.teardown(() => http.close());
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', MAX_INFLIGHT: '4', REDIS_TIMEOUT_MS: '5000' });
  await redis.client.set('o:k', 'ok');
  const { done: sleeping } = await redis.hold(t, 0.6);
  const sent = performance.now();
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      request(`${proxy.url}/o:absent:${i}`, { dispatcher: http }).then(async (r) => ({
        status: r.statusCode,
        retry: r.headers['retry-after'],
        body: await r.body.text(),
        ms: performance.now() - sent,
      })),
    ),
  );
  await sleeping;
  const shed = answers.filter((a) => a.status === 503);
  const served = answers.filter((a) => a.status === 404);
  t.equal(served.length, 4, 'MAX_INFLIGHT requests waited for Redis and were answered');
  t.equal(shed.length, 16, 'the rest were shed');
  t.ok(
    shed.every((a) => a.retry === '1' && a.body === 'shard overloaded: MAX_INFLIGHT requests already waiting on redis\n'),
    'with Retry-After and the reason',
  );
  const slowestShed = Math.max(...shed.map((a) => a.ms));
  const fastestServed = Math.min(...served.map((a) => a.ms));
  t.ok(
    slowestShed < fastestServed,
    `shed at once (slowest ${Math.round(slowestShed)} ms), not queued behind Redis (first served ${Math.round(fastestServed)} ms)`,
  );
  for (let i = 0; i < 20; i++)
    t.equal((await get(proxy.url, '/o:k', { dispatcher: http })).status, 200, `normal service, request ${i + 1}`);
  const m = await scrape(proxy.admin);
  t.equal(total(m, 'shardcache_shed_total', { reason: 'misses' }), 16, 'counted as misses shed');
  t.equal(total(m, 'shardcache_shed_total', { reason: 'queue' }), 0, 'none refused by the hand-off bound');
  t.equal(total(m, 'shardcache_requests_total', { protocol: 'http', status: '503' }), 16);
  t.comment(
    `MAX_INFLIGHT=4: sent 20 at once + 20 after, answered 40, shed 16 (503 within ${Math.round(slowestShed)} ms), then 20 of 20 served`,
  );
});

t.test(
  'the hand-off bound: a RESP pipeline past MAX_INFLIGHT + MAX_CONNECTIONS per listener gets queue full at once, counted apart',
  async (t) => {
    // Bound: MAX_INFLIGHT 1 + MAX_CONNECTIONS 1 × 2 listeners = 3 handed to the shard; of those the shard lets 1 wait on Redis.
    const proxy = await startProxy(t, {
      REDIS_URL: redis.url,
      SHARDS: '1',
      RESP_PORT: '0',
      MAX_INFLIGHT: '1',
      MAX_CONNECTIONS: '1',
      REDIS_TIMEOUT_MS: '5000',
    });
    const keys = Array.from({ length: 10 }, (_, i) => `o:q:${i}`);
    await redis.client.mset(...keys.flatMap((k) => [k, k]));
    const { done } = await redis.hold(t, 0.5);
    const replies = decodeAll((await exchange(proxy.respPort!, Buffer.concat(keys.map((k) => command('GET', k))), { replies: 10 })).data);
    await done;
    const overloaded = 'ERR shard overloaded: MAX_INFLIGHT requests waiting on redis, try again';
    const full = 'ERR shard queue full: too many requests handed to the shard, try again';
    t.same(
      replies,
      ['o:q:0', { error: overloaded }, { error: overloaded }, ...keys.slice(3).map(() => ({ error: full }))],
      'one waited on Redis, two more reached the shard and were refused as misses, seven never left the acceptor',
    );
    const m = await scrape(proxy.admin);
    t.same(
      [total(m, 'shardcache_shed_total', { reason: 'misses' }), total(m, 'shardcache_shed_total', { reason: 'queue' })],
      [2, 7],
      'counted by reason',
    );
    t.equal(total(m, 'shardcache_requests_total', { protocol: 'resp', status: 'shed' }), 9, 'each a shed RESP command');
  },
);

t.test('slowloris: connections that trickle headers get 408 and are closed; others are served meanwhile', async (t) => {
  const http = agent(4);
  t.teardown(() => http.close());
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', HEADERS_TIMEOUT_MS: '500', REQUEST_TIMEOUT_MS: '1000' });
  await redis.client.set('o:fast', 'fast');
  const { hostname, port } = new URL(proxy.url);
  const opened = performance.now();
  const slow = Array.from({ length: 50 }, () => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    socket.on('error', () => {});
    socket.write('GET /o:fast HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 100);
    return new Promise<{ got: string; ms: number }>((resolve) =>
      socket.once('close', () => {
        clearInterval(drip);
        resolve({ got, ms: performance.now() - opened });
      }),
    );
  });
  for (let i = 0; i < 5; i++) {
    t.equal((await get(proxy.url, '/o:fast', { dispatcher: http })).status, 200, 'a normal client is served while 50 connections trickle');
    await sleep(50);
  }
  const closed = await Promise.all(slow);
  t.ok(
    closed.every((c) => c.got.startsWith('HTTP/1.1 408')),
    'each slow connection got 408',
  );
  const latest = Math.max(...closed.map((c) => c.ms));
  t.ok(latest < 3000, `all closed within ${Math.round(latest)} ms (HEADERS_TIMEOUT_MS 500 + the check interval)`);
  t.equal(proxy.child.exitCode, null);
  t.comment(`slowloris: 50 trickling connections, all answered 408 and closed within ${Math.round(latest)} ms`);
});

t.test('SIGINT with a connection still busy at SHUTDOWN_TIMEOUT_MS: it is cut, exit 1, said in the log', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', SHUTDOWN_TIMEOUT_MS: '300' });
  const { hostname, port } = new URL(proxy.url);
  const socket = net.connect({ host: hostname, port: Number(port) });
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write('GET /o:fast HTTP/1.1\r\nHost: x\r\n'); // headers never finished: not idle, not done
  await sleep(50);
  const sent = performance.now();
  const exited = new Promise<number | null>((resolve) => proxy.child.once('exit', resolve));
  process.kill(proxy.child.pid!, 'SIGINT');
  const code = await exited;
  const took = performance.now() - sent;
  socket.destroy();
  t.equal(code, 1, 'exit 1: the stop was not clean');
  t.ok(took >= 300 && took < 3000, `stopped after ${Math.round(took)} ms`);
  t.match(proxy.logs(), /SIGINT: stopping/);
  t.match(proxy.logs(), /cut connections still open after SHUTDOWN_TIMEOUT_MS \(300 ms\)/);
});
