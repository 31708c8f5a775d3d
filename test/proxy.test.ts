/**
 * Black-box tests of the built proxy (`node dist/src/main.js`, as `npm
 * start` runs it) in front of a private redis-server, over HTTP.
 */
import t from 'tap';
import { agent, encodeKey, get } from './helpers/http.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { getCalls } from './helpers/commandstats.js';
import { sleep } from './helpers/time.js';

const redis = await startRedis(t);
const http = agent(32);
t.teardown(() => http.close());

t.test('INVALIDATION=ttl: serves a value, keeps it cached until the TTL passes, then the new one', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, CACHE_TTL_MS: '600', SHARDS: '2', INVALIDATION: 'ttl' });
  await redis.client.set('greeting', 'hello');
  const first = await get(proxy.url, '/greeting', { dispatcher: http });
  t.equal(first.status, 200);
  t.equal(first.body.toString(), 'hello');
  t.equal(first.headers['content-type'], 'application/octet-stream');
  t.equal(first.headers['content-length'], '5');
  const fetchedAt = Date.now();
  await redis.client.set('greeting', 'bonjour');
  const cached = await get(proxy.url, '/greeting', { dispatcher: http });
  t.ok(Date.now() - fetchedAt < 600, 'read again before the TTL');
  t.equal(cached.body.toString(), 'hello', 'the cached value, not the new one');
  await sleep(700 - (Date.now() - fetchedAt));
  t.equal((await get(proxy.url, '/greeting', { dispatcher: http })).body.toString(), 'bonjour', 'the new value after the TTL');
  const head = await get(proxy.url, '/greeting', { method: 'HEAD', dispatcher: http });
  t.equal(head.status, 200);
  t.equal(head.headers['content-length'], '7', 'HEAD: the same headers');
  t.equal(head.body.length, 0, 'HEAD: no body');
});

t.test('LRU eviction with SHARDS=1 and capacity 3: the least recently read key goes', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', CACHE_CAPACITY: '3', CACHE_TTL_MS: '60000', INVALIDATION: 'ttl' });
  await redis.client.mset('lru:1', 'v1', 'lru:2', 'v2', 'lru:3', 'v3', 'lru:4', 'v4');
  for (const k of ['lru:1', 'lru:2', 'lru:3', 'lru:1', 'lru:4']) t.equal((await get(proxy.url, `/${k}`, { dispatcher: http })).status, 200);
  // Change every value behind the proxy's back: a cached key still shows the old value.
  await redis.client.mset('lru:1', 'new', 'lru:2', 'new', 'lru:3', 'new', 'lru:4', 'new');
  const read = async (k: string): Promise<string> => (await get(proxy.url, `/${k}`, { dispatcher: http })).body.toString();
  t.equal(await read('lru:1'), 'v1', 'read twice: kept');
  t.equal(await read('lru:3'), 'v3', 'kept');
  t.equal(await read('lru:4'), 'v4', 'newest: kept');
  t.equal(await read('lru:2'), 'new', 'least recently read: evicted, fetched again');
});

t.test('404 with an empty body; binary keys and all 256 byte values round-trip', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2' });
  await redis.client.del('nothing-here');
  const missing = await get(proxy.url, '/nothing-here', { dispatcher: http });
  t.equal(missing.status, 404);
  t.equal(missing.body.length, 0);
  t.equal(missing.headers['content-length'], '0');
  const key = Buffer.from([0x00, 0xff, 0x2f, 0x3f, 0x23, 0x25, 0x20, 0xc3, 0xa9, 0x0a]);
  const value = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  await redis.client.set(key, value);
  for (let round = 0; round < 2; round++) {
    const got = await get(proxy.url, `/${encodeKey(key)}`, { dispatcher: http });
    t.equal(got.status, 200);
    t.same([...got.body], [...value], round === 0 ? 'from Redis' : 'from the cache');
  }
  t.equal(
    (await get(proxy.url, `/${encodeKey(key)}?ignored=1`, { dispatcher: http })).body.length,
    256,
    'the query string is not part of the key',
  );
});

for (const shards of ['1', '4']) {
  t.test(`1,000 keys read twice by 10 parallel clients, SHARDS=${shards}`, async (t) => {
    const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: shards, CACHE_TTL_MS: '60000' });
    const keys = Array.from({ length: 1000 }, (_, i) => `bulk${shards}:${i}`);
    await redis.client.mset(...keys.flatMap((k, i) => [k, `value-${i}-${'x'.repeat(i % 50)}`]));
    let wrong = 0;
    let answered = 0;
    const client = async (c: number): Promise<void> => {
      for (let round = 0; round < 2; round++) {
        for (let i = c; i < keys.length; i += 10) {
          const got = await get(proxy.url, `/${keys[i]}`, { dispatcher: http });
          answered++;
          if (got.status !== 200 || got.body.toString() !== `value-${i}-${'x'.repeat(i % 50)}`) wrong++;
        }
      }
    };
    await Promise.all(Array.from({ length: 10 }, (_, c) => client(c)));
    t.equal(answered, 2000);
    t.equal(wrong, 0, 'every answer right');
  });
}

t.test('20 concurrent GETs of one uncached key cause exactly one Redis GET', async (t) => {
  // No cache at all: only coalescing can keep the count at one. DEBUG SLEEP
  // holds Redis so that all 20 requests arrive while the first GET is in flight.
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', CACHE_CAPACITY: '0', REDIS_TIMEOUT_MS: '5000' });
  await redis.client.set('stampede', 'once');
  await redis.client.config('RESETSTAT');
  const sleeper = redis.client.duplicate();
  t.teardown(() => sleeper.disconnect());
  const sleeping = sleeper.call('DEBUG', 'SLEEP', '0.3');
  await sleep(20);
  const answers = await Promise.all(Array.from({ length: 20 }, () => get(proxy.url, '/stampede', { dispatcher: http })));
  await sleeping;
  t.ok(
    answers.every((a) => a.status === 200 && a.body.toString() === 'once'),
    'all 20 answered with the value',
  );
  t.equal(await getCalls(redis.client), 1, 'one GET reached Redis');
});

t.test('refusals: 405 and 400 with a one-line reason', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', MAX_KEY_BYTES: '8' });
  for (const method of ['POST', 'PUT', 'DELETE'] as const) {
    const got = await get(proxy.url, '/k', { method, dispatcher: http });
    t.equal(got.status, 405, method);
    t.equal(got.headers.allow, 'GET, HEAD');
    t.match(got.body.toString(), /^method not allowed[^\n]*\n$/);
  }
  const cases: [string, RegExp][] = [
    ['/', /^empty key/],
    ['/?x=1', /^empty key/],
    ['/%zz', /^malformed percent-encoding/],
    ['/abc%4', /^malformed percent-encoding/],
    ['/123456789', /^key longer than MAX_KEY_BYTES \(8 bytes\)/],
    [`/${'%41'.repeat(9)}`, /^key longer than MAX_KEY_BYTES/],
  ];
  for (const [path, reason] of cases) {
    const got = await get(proxy.url, path, { dispatcher: http });
    t.equal(got.status, 400, path);
    t.match(got.body.toString(), reason);
    t.equal(got.body.toString().split('\n').length, 2, 'one line');
  }
  await redis.client.set('12345678', 'fits');
  t.equal((await get(proxy.url, '/12345678', { dispatcher: http })).status, 200, 'a key of exactly MAX_KEY_BYTES is served');
  // A list answers its JSON (typed-http.test.ts); a stream has no view here.
  await redis.client.del('wrongtyp');
  await redis.client.xadd('wrongtyp', '*', 'f', 'v');
  const wrong = await get(proxy.url, '/wrongtyp', { dispatcher: http });
  t.equal(wrong.status, 409);
  t.match(wrong.body.toString(), /no such view/);
  t.equal((await get(proxy.url, '/12345678', { dispatcher: http })).body.toString(), 'fits', 'still serving after the refusals');
});
