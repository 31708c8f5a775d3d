/**
 * Values too large to cache (issue 22), against the built proxy and a real
 * Redis with MAX_VALUE_BYTES=1k: a list of 20,000 items is read whole once,
 * then its commands go to Redis one by one (Redis's commandstats count
 * them, and no typed script); writes show at once; a key made small again
 * is cached again; EXISTS, TYPE, TTL and PTTL cost Redis nothing; a key
 * that expires is not answered from its marker after; RESP3 shapes; the
 * HTTP views; a GET of a big list answers WRONGTYPE with no whole read; and
 * a Redis that is gone answers an error at once.
 */
import t from 'tap';
import { commandCalls } from './helpers/commandstats.js';
import { get } from './helpers/http.js';
import { scrape, total } from './helpers/metrics.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { sendAll } from './helpers/resp.js';

const redis = await startRedis(t);
const c = redis.client;
const proxy = await startProxy(t, { REDIS_URL: redis.url, RESP_PORT: '0', SHARDS: '2', MAX_VALUE_BYTES: '1k' });
const port = proxy.respPort!;

/** `n` items `item-0`…: a list of 20,000 is about 200 kB, far over 1k. */
async function bigList(key: string, n: number): Promise<void> {
  for (let from = 0; from < n; from += 1000)
    await c.rpush(key, ...Array.from({ length: Math.min(1000, n - from) }, (_, i) => `item-${from + i}`));
}

/** The typed script's runs so far. */
const scripts = (): Promise<number> => commandCalls(c, 'evalsha', 'eval');

const bulk = (s: string): string => `$${s.length}\r\n${s}\r\n`;

await bigList('big', 20000);

t.test('the second LRANGE of a big list goes to Redis as LRANGE, with no typed script', async (t) => {
  const first = await sendAll(port, [['LRANGE', 'big', '0', '9']]);
  const expected = `*10\r\n${Array.from({ length: 10 }, (_, i) => bulk(`item-${i}`)).join('')}`;
  t.same(first, [expected], 'the first answers from the whole read');
  const [scripted, lranges] = [await scripts(), await commandCalls(c, 'lrange')];
  t.same(await sendAll(port, [['LRANGE', 'big', '0', '9']]), [expected], 'the second answers the same');
  t.equal((await scripts()) - scripted, 0, 'no typed script for the second');
  t.equal((await commandCalls(c, 'lrange')) - lranges, 1, 'one LRANGE sent to Redis');
  const samples = await scrape(proxy.admin);
  t.ok(total(samples, 'shardcache_too_large_total') >= 2, 'the whole read and the forwarded command count as too large');
});

t.test('a write to the big list shows through the proxy at once', async (t) => {
  await sendAll(port, [['LRANGE', 'big', '0', '0']]);
  await c.lpush('big', 'x');
  const deadline = performance.now() + 50;
  let seen = '';
  do seen = (await sendAll(port, [['LRANGE', 'big', '0', '0']]))[0]!;
  while (seen !== `*1\r\n${bulk('x')}` && performance.now() < deadline);
  t.equal(seen, `*1\r\n${bulk('x')}`, 'LRANGE big 0 0 is the pushed item within 50 ms');
});

t.test('made small again, the key is cached again', async (t) => {
  await sendAll(port, [['LLEN', 'big']]);
  await c.del('big');
  await c.rpush('big', 'a', 'b');
  // The invalidation reaches the proxy a moment after the write.
  const deadline = performance.now() + 2000;
  let reply = '';
  do reply = (await sendAll(port, [['LRANGE', 'big', '0', '-1']]))[0]!;
  while (reply !== `*2\r\n${bulk('a')}${bulk('b')}` && performance.now() < deadline);
  t.equal(reply, `*2\r\n${bulk('a')}${bulk('b')}`, 'the small list');
  // That answer may have been forwarded still, the invalidation on its way: once it has come, one read caches the list.
  await new Promise((resolve) => setTimeout(resolve, 50));
  await sendAll(port, [['LRANGE', 'big', '0', '-1']]);
  const [scripted, reads] = [await scripts(), await commandCalls(c, 'lrange', 'llen')];
  t.same(
    await sendAll(port, [
      ['LRANGE', 'big', '0', '-1'],
      ['LLEN', 'big'],
    ]),
    [`*2\r\n${bulk('a')}${bulk('b')}`, ':2\r\n'],
  );
  t.equal(
    (await scripts()) - scripted + (await commandCalls(c, 'lrange', 'llen')) - reads,
    0,
    'answered from the cache: Redis ran nothing',
  );
});

t.test('EXISTS, TYPE, TTL and PTTL of an oversized key cost Redis nothing', async (t) => {
  await bigList('bigttl', 20000);
  await c.expire('bigttl', 1000);
  await sendAll(port, [['LLEN', 'bigttl']]);
  const before = await commandCalls(c, 'exists', 'type', 'ttl', 'pttl', 'evalsha', 'eval');
  const [exists, type, ttl, pttl] = await sendAll(port, [
    ['EXISTS', 'bigttl'],
    ['TYPE', 'bigttl'],
    ['TTL', 'bigttl'],
    ['PTTL', 'bigttl'],
  ]);
  t.equal(await commandCalls(c, 'exists', 'type', 'ttl', 'pttl', 'evalsha', 'eval'), before, 'no command reached Redis');
  t.equal(exists, ':1\r\n');
  t.equal(type, '+list\r\n');
  t.equal(ttl, ':1000\r\n', 'TTL rounded as Redis rounds it');
  const ms = Number(/^:(\d+)\r\n$/.exec(pttl!)?.[1]);
  t.ok(ms > 990000 && ms <= 1000000, `PTTL ${ms} within the key's life`);
  t.same(await sendAll(port, [['LLEN', 'bigttl']]), [':20000\r\n'], 'and LLEN is forwarded');
});

t.test('a key that expires in Redis is not answered from its marker after', async (t) => {
  await bigList('short', 2000);
  await c.pexpire('short', 300);
  t.same(
    await sendAll(port, [
      ['EXISTS', 'short'],
      ['LLEN', 'short'],
    ]),
    [':1\r\n', ':2000\r\n'],
  );
  t.same(await sendAll(port, [['TYPE', 'short']]), ['+list\r\n'], 'the marker answers while the key lives');
  await new Promise((resolve) => setTimeout(resolve, 350));
  t.same(
    await sendAll(port, [
      ['EXISTS', 'short'],
      ['TYPE', 'short'],
      ['TTL', 'short'],
      ['LLEN', 'short'],
    ]),
    [':0\r\n', '+none\r\n', ':-2\r\n', ':0\r\n'],
  );
});

t.test('RESP3: HGETALL of a big hash is a map, byte for byte as Redis answers it', async (t) => {
  const fields: string[] = [];
  for (let i = 0; i < 2000; i++) fields.push(`f${i}`, `v${i}`);
  await c.hset('bighash', ...fields);
  const direct = await sendAll(redis.port, [
    ['HELLO', '3'],
    ['HGETALL', 'bighash'],
  ]);
  t.match(direct[1], /^%2000\r\n/, 'Redis answers a map');
  const hgetalls = await commandCalls(c, 'hgetall');
  for (let i = 0; i < 2; i++) {
    const through = await sendAll(port, [
      ['HELLO', '3'],
      ['HGETALL', 'bighash'],
      ['ZSCORE', 'bighash', 'x'],
    ]);
    t.equal(through[1], direct[1], `pass ${i + 1}: the same bytes`);
    t.match(through[2], /^-WRONGTYPE Operation against a key holding the wrong kind of value\r\n$/, 'an error as Redis writes it');
  }
  // The first read whole (the script's HGETALL), the second forwarded: two, with the client's one to Redis above counted before.
  t.equal((await commandCalls(c, 'hgetall')) - hgetalls, 2);
});

t.test('HTTP ?field= and ?start=&stop= of big values are forwarded', async (t) => {
  await bigList('biglist', 20000);
  await c.zadd('bigz', ...Array.from({ length: 2000 }, (_, i) => [String(i / 10), `m${i}`]).flat());
  for (let i = 0; i < 2; i++) {
    const hget = await commandCalls(c, 'hget');
    const field = await get(proxy.url, '/bighash?field=f7');
    t.equal(field.status, 200);
    t.equal(field.body.toString(), 'v7');
    if (i === 1) t.equal((await commandCalls(c, 'hget')) - hget, 1, 'the second: one HGET');
    t.equal((await get(proxy.url, '/bighash?field=nope')).status, 404, 'a missing field: 404');
    t.same(JSON.parse((await get(proxy.url, '/biglist?start=1&stop=2')).body.toString()), ['item-1', 'item-2']);
    t.equal(
      (await get(proxy.url, '/bigz?start=-2&stop=-1')).body.toString(),
      '[["m1998",199.80000000000001],["m1999",199.90000000000001]]',
    );
    t.equal((await get(proxy.url, '/biglist?field=x')).status, 409, 'a field of a list: wrong type');
  }
});

t.test('a GET of a big list answers WRONGTYPE without reading it whole; an HTTP GET reads it whole once', async (t) => {
  await bigList('getlist', 20000);
  const wrongType = '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n';
  t.same(await sendAll(port, [['LLEN', 'getlist']]), [':20000\r\n'], 'read whole once, and marked');
  // The typed script reads a list whole with LRANGE 0 -1 (counted by Redis inside a script); a GET's own read is a script too.
  const before = await commandCalls(c, 'lrange');
  t.same(await sendAll(port, [['GET', 'getlist']]), [wrongType]);
  t.same(await sendAll(port, [['GET', 'getlist']]), [wrongType]);
  t.equal((await commandCalls(c, 'lrange')) - before, 0, 'no whole read for either GET');
  const json = await get(proxy.url, '/getlist');
  t.equal(json.status, 200);
  const items = JSON.parse(json.body.toString()) as string[];
  t.same([items.length, items[0], items.at(-1)], [20000, 'item-0', 'item-19999'], 'the whole list as JSON');
  t.equal((await commandCalls(c, 'lrange')) - before, 1, 'the HTTP GET read it whole once');
});

t.test('with Redis stopped, a forwarded command answers an error at once and the proxy stays up', async (t) => {
  t.same(await sendAll(port, [['LLEN', 'biglist']]), [':20000\r\n'], 'forwarded while Redis is up');
  await redis.stop();
  const started = performance.now();
  const [reply] = await sendAll(port, [['LLEN', 'biglist']], 5000);
  const ms = performance.now() - started;
  t.match(reply, /^-/, `an error: ${JSON.stringify(reply)}`);
  t.ok(ms < 2000, `within ${Math.round(ms)} ms`);
  t.equal(proxy.child.exitCode, null, 'the proxy is still running');
  t.equal((await get(proxy.admin, '/healthz')).status, 200, '/healthz answers');
  await redis.restart();
});
