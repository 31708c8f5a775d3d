/**
 * Redis going away and coming back, with the built proxy in front: 503
 * within the timeout, the proxy stays up, and it recovers by itself.
 */
import t from 'tap';
import { agent, get } from './helpers/http.js';
import { freePort, startProxy, startRedis } from './helpers/processes.js';
import { sleep } from './helpers/time.js';

const http = agent(8);
t.teardown(() => http.close());

t.test('Redis stopped → 503 within REDIS_TIMEOUT_MS + 1 s; back → 200 without a restart', async (t) => {
  const redis = await startRedis(t);
  // INVALIDATION=ttl: with tracking, a lost connection flushes the cache (test/coherence.test.ts).
  const proxy = await startProxy(t, {
    REDIS_URL: redis.url,
    SHARDS: '2',
    REDIS_TIMEOUT_MS: '500',
    CACHE_TTL_MS: '60000',
    INVALIDATION: 'ttl',
  });
  await redis.client.set('before', 'up');
  t.equal((await get(proxy.url, '/before', { dispatcher: http })).status, 200);

  await redis.stop();
  for (const key of ['never-cached-1', 'never-cached-2', 'never-cached-3']) {
    const started = Date.now();
    const got = await get(proxy.url, `/${key}`, { dispatcher: http });
    const took = Date.now() - started;
    t.equal(got.status, 503, `${key}: 503`);
    t.equal(got.headers['retry-after'], '1');
    t.ok(took <= 1500, `${key}: answered in ${took} ms`);
  }
  t.equal(
    (await get(proxy.url, '/before', { dispatcher: http })).body.toString(),
    'up',
    'cached values are still served (INVALIDATION=ttl)',
  );
  t.equal(proxy.child.exitCode, null, 'the proxy is alive');

  await redis.restart();
  await redis.client.set('after', 'back');
  const deadline = Date.now() + 10000;
  let status = 0;
  while (Date.now() < deadline) {
    status = (await get(proxy.url, '/after', { dispatcher: http })).status;
    if (status === 200) break;
    await sleep(100);
  }
  t.equal(status, 200, 'serves again without restarting the proxy');
  t.match(proxy.logs(), /redis (connection lost|connection closed)/);
  t.match(proxy.logs(), /redis reconnected/);
  t.notMatch(proxy.logs(), /\n\s+at /, 'no stack traces in the log');
});

t.test('Redis absent at start: a one-line hint, no stack trace, and it connects once Redis appears', async (t) => {
  const port = await freePort();
  const proxy = await startProxy(t, { REDIS_URL: `redis://127.0.0.1:${port}`, SHARDS: '1', REDIS_TIMEOUT_MS: '300' });
  t.equal((await get(proxy.url, '/k', { dispatcher: http })).status, 503);
  await sleep(300);
  t.match(proxy.logs(), new RegExp(`nothing answers at REDIS_URL redis://127.0.0.1:${port}`));
  t.notMatch(proxy.logs(), /\n\s+at /, 'no stack trace');
  const { spawn } = await import('node:child_process');
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const deadline = Date.now() + 10000;
  let status = 0;
  while (Date.now() < deadline && status !== 404) {
    await sleep(100);
    status = (await get(proxy.url, '/k', { dispatcher: http })).status;
  }
  t.equal(status, 404, 'answers from Redis once it is up (the key is absent there)');
});

t.test('INVALIDATION=tracking: Redis stopped → the cache is flushed (changes could go unseen), served again once back', async (t) => {
  const redis = await startRedis(t);
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', REDIS_TIMEOUT_MS: '500', CACHE_TTL_MS: '60000' });
  await redis.client.set('tracked', 'v');
  t.equal((await get(proxy.url, '/tracked', { dispatcher: http })).status, 200);
  await redis.stop();
  t.equal((await get(proxy.url, '/tracked', { dispatcher: http })).status, 503, 'not served from a cache nobody keeps coherent');
  await redis.restart();
  await redis.client.set('tracked', 'w');
  const deadline = Date.now() + 10000;
  let body = '';
  while (Date.now() < deadline && body !== 'w') {
    await sleep(100);
    body = (await get(proxy.url, '/tracked', { dispatcher: http })).body.toString();
  }
  t.equal(body, 'w', 'the new value once Redis is back');
  const rearmed = Date.now() + 5000;
  while (Date.now() < rearmed && !/invalidation tracking re-armed/.test(proxy.logs())) await sleep(50);
  t.match(proxy.logs(), /shard 0: invalidation tracking re-armed/);
});
