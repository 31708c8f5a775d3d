/**
 * Hashes, lists, sets and sorted sets over HTTP, against the built proxy and
 * a real Redis: JSON of the whole value, `?field=`, `?start=&stop=` with
 * Redis's index rules, the base64 form of bytes that are not UTF-8, ETag /
 * 304 / HEAD for every type, CONTENT_TYPES for strings, and the refusals.
 */
import t from 'tap';
import { request } from 'undici';
import { agent, encodeKey, get } from './helpers/http.js';
import { startProxy, startRedis } from './helpers/processes.js';

const redis = await startRedis(t);
const proxy = await startProxy(t, {
  REDIS_URL: redis.url,
  SHARDS: '2',
  CONTENT_TYPES: '.json=application/json,.html=text/html; charset=utf-8,.min.json=application/x-min',
});
const http = agent(4);
t.teardown(() => http.close());
const c = redis.client;
const BINARY = Buffer.from([0x00, 0xff, 0xfe, 0x41]);

await c.hset('h', 'a', '1', 'quote"', 'line\nbreak', 'é', 'ü');
await c.hset(Buffer.from('hb'), BINARY, BINARY);
await c.rpush('l', 'a', 'b', 'c', 'd', 'e');
await c.sadd('s', '3', '1', '2');
await c.zadd('z', 2, 'b', 1, 'a', '-inf', 'low', 'inf', 'high', 0.1, 'tenth');
await c.set('page.html', '<p>hi</p>');
await c.set('data.min.json', '{}');
await c.set('plain', 'bytes');

const json = async (path: string): Promise<unknown> => {
  const a = await get(proxy.url, path, { dispatcher: http });
  t.equal(a.headers['content-type'], 'application/json', `${path}: application/json`);
  return JSON.parse(a.body.toString('utf8'));
};

t.test('the whole value as JSON: a hash an object, a list or set an array, a sorted set [member, score] pairs in rank order', async (t) => {
  // Twice: the first is read from Redis, the second from the cache.
  for (let i = 0; i < 2; i++) {
    t.same(await json('/h'), { a: '1', 'quote"': 'line\nbreak', é: 'ü' });
    t.same(await json('/l'), ['a', 'b', 'c', 'd', 'e']);
    t.same(await json('/s'), ['1', '2', '3'], 'an intset, in Redis order');
    t.same(await json('/z'), [
      ['low', '-inf'],
      ['tenth', 0.1],
      ['a', 1],
      ['b', 2],
      ['high', 'inf'],
    ]);
  }
  t.equal(
    (await get(proxy.url, '/z', { dispatcher: http })).body.toString(),
    '[["low","-inf"],["tenth",0.10000000000000001],["a",1],["b",2],["high","inf"]]',
    "scores in Redis's own %.17g text",
  );
});

t.test('bytes that are not UTF-8: {"base64": …} as a value, "base64:…" as a field name', async (t) => {
  t.same(await json('/hb'), { [`base64:${BINARY.toString('base64')}`]: { base64: BINARY.toString('base64') } });
  const field = await get(proxy.url, `/hb?field=${encodeKey(BINARY)}`, { dispatcher: http });
  t.same(
    [field.status, field.headers['content-type'], field.body],
    [200, 'application/octet-stream', BINARY],
    '?field= gives the raw bytes',
  );
});

t.test('?field= reads one hash field; ?start=&stop= a range with Redis index rules', async (t) => {
  const a = await get(proxy.url, '/h?field=quote%22', { dispatcher: http });
  t.same([a.status, a.body.toString()], [200, 'line\nbreak']);
  t.equal((await get(proxy.url, '/h?field=nope', { dispatcher: http })).status, 404, 'an absent field: 404');
  t.equal((await get(proxy.url, '/nokey?field=a', { dispatcher: http })).status, 404, 'an absent key: 404');
  for (const [query, expected] of [
    ['start=1&stop=2', ['b', 'c']],
    ['start=-2', ['d', 'e']],
    ['stop=0', ['a']],
    ['start=3&stop=1', []],
    ['start=-100&stop=100', ['a', 'b', 'c', 'd', 'e']],
    ['start=9&stop=10', []],
  ] as const)
    t.same(await json(`/l?${query}`), expected, `list ?${query}`);
  t.same(
    await json('/z?start=-2&stop=-1'),
    [
      ['b', 2],
      ['high', 'inf'],
    ],
    'zset ranges by rank',
  );
  t.same(await json('/h?v=2'), { a: '1', 'quote"': 'line\nbreak', é: 'ü' }, 'other parameters are ignored, as before');
});

t.test('refusals: 400 for bad bounds or both kinds of view, 409 for a view the type has not', async (t) => {
  for (const path of ['/l?start=x', '/l?start=1.5', '/l?stop=', '/h?field=a&start=0', '/l?start=%zz'])
    t.equal((await get(proxy.url, path, { dispatcher: http })).status, 400, path);
  for (const path of ['/s?start=0', '/l?field=a', '/h?start=0', '/plain?field=a'])
    t.equal((await get(proxy.url, path, { dispatcher: http })).status, 409, path);
});

t.test('ETag, 304 and HEAD for every type and view', async (t) => {
  for (const path of ['/h', '/l', '/s', '/z', '/h?field=a', '/l?start=1', '/plain']) {
    const first = await get(proxy.url, path, { dispatcher: http });
    const etag = first.headers.etag as string;
    t.match(etag, /^"[0-9a-f]{16}"$/, `${path}: an ETag`);
    const again = await request(proxy.url + path, { headers: { 'if-none-match': etag }, dispatcher: http });
    await again.body.arrayBuffer();
    t.equal(again.statusCode, 304, `${path}: If-None-Match answers 304`);
    const head = await get(proxy.url, path, { method: 'HEAD', dispatcher: http });
    t.same(
      [head.status, head.body.length, head.headers['content-length'], head.headers['content-type']],
      [200, 0, first.headers['content-length'], first.headers['content-type']],
      `${path}: HEAD, the same headers, no body`,
    );
  }
  await c.hset('h', 'a', '2');
  let changed = await get(proxy.url, '/h', { dispatcher: http });
  for (let i = 0; i < 100 && JSON.parse(changed.body.toString()).a !== '2'; i++) changed = await get(proxy.url, '/h', { dispatcher: http });
  t.equal(JSON.parse(changed.body.toString()).a, '2', 'the HSET is seen');
  t.not(changed.headers.etag, (await get(proxy.url, '/l', { dispatcher: http })).headers.etag, 'ETags differ by value');
  const stale = await request(`${proxy.url}/h`, { headers: { 'if-none-match': '"0000000000000000"' }, dispatcher: http });
  await stale.body.arrayBuffer();
  t.equal(stale.statusCode, 200, 'another ETag: the whole answer');
});

t.test('CONTENT_TYPES: a string key by its suffix, the longest first; others application/octet-stream', async (t) => {
  const type = async (path: string): Promise<unknown> => (await get(proxy.url, path, { dispatcher: http })).headers['content-type'];
  t.equal(await type('/page.html'), 'text/html; charset=utf-8');
  t.equal(await type('/data.min.json'), 'application/x-min');
  t.equal(await type('/plain'), 'application/octet-stream');
});
