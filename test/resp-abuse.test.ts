/**
 * The RESP listener under bad input and bad times: malformed frames, random
 * bytes, a Redis outage, a stop while clients are connected.
 */
import t from 'tap';
import net from 'node:net';
import { Redis } from 'ioredis';
import { runProxy, startProxy, startRedis } from './helpers/processes.js';
import { command, decodeAll, exchange } from './helpers/resp.js';
import { seededRandom } from './helpers/random.js';
import { sleep } from './helpers/time.js';

const redis = await startRedis(t);

t.test('malformed frames: an error reply, then the connection is closed', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', RESP_PORT: '0' });
  const port = proxy.respPort!;
  await redis.client.set('m:k', 'v');
  const cases: [string | Buffer, string][] = [
    ['*1\r\n$1073741824\r\n', 'Protocol error: invalid bulk length'],
    ['*1\r\n$-5\r\n', 'Protocol error: invalid bulk length'],
    ['*abc\r\n', 'Protocol error: invalid multibulk length'],
    ['*99999999\r\n', 'Protocol error: invalid multibulk length'],
    ['*1\r\n:1\r\n', "Protocol error: expected '$', got ':'"],
    ['*1\r\n$3\r\nGETX\r\n', 'Protocol error: bulk string not terminated by CRLF'],
    ['GET "m:k\r\n', 'Protocol error: unbalanced quotes in request'],
    [Buffer.alloc(70000, 'a'), 'Protocol error: too big inline request'],
  ];
  for (const [frame, reason] of cases) {
    const { data, closed } = await exchange(port, frame, { timeoutMs: 3000 });
    t.equal(data.toString(), `-ERR ${reason}\r\n`, reason);
    t.ok(closed, 'closed by the proxy');
  }
  const { data, closed } = await exchange(port, Buffer.concat([command('GET', 'm:k'), Buffer.from('PING\r\n*1\r\n$x\r\nPING\r\n')]));
  t.same(
    decodeAll(data),
    ['v', 'PONG', { error: 'ERR Protocol error: invalid bulk length' }],
    'what came before is answered, nothing after',
  );
  t.ok(closed);
});

t.test('1,000 random frames: the process stays up and keeps serving', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', RESP_PORT: '0' });
  const port = proxy.respPort!;
  await redis.client.set('r:k', 'still here');
  const rand = seededRandom(0x5eed);
  const pieces = [
    '*',
    '$',
    '\r\n',
    '\r',
    '\n',
    '-1',
    '0',
    '2',
    '99999999999',
    'GET',
    'MGET',
    'PING',
    'r:k',
    '"',
    "'",
    '\\x',
    ' ',
    '\x00',
    'HELLO',
    'CLIENT',
  ];
  const frame = (): Buffer => {
    const kind = rand();
    if (kind < 0.3) return Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 300) }, () => Math.floor(rand() * 256)));
    if (kind < 0.6)
      return Buffer.from(
        Array.from({ length: 1 + Math.floor(rand() * 30) }, () => pieces[Math.floor(rand() * pieces.length)]).join(''),
        'latin1',
      );
    // A valid command with one byte changed, or cut short.
    const valid = command('MGET', 'r:k', 'r:other', 'x'.repeat(Math.floor(rand() * 40)));
    if (kind < 0.8) valid[Math.floor(rand() * valid.length)] = Math.floor(rand() * 256);
    return valid.subarray(0, Math.floor(rand() * valid.length) + 1);
  };
  let closedByProxy = 0;
  let halfClosedLeftOpen = 0;
  for (let round = 0; round < 40; round++) {
    // Most clients shut their side after the frame, and the proxy must then
    // close too; the rest hang up themselves after 200 ms.
    const halfClose = Array.from({ length: 25 }, () => rand() < 0.8);
    const results = await Promise.all(
      halfClose.map((half) => exchange(port, frame(), half ? { timeoutMs: 5000, halfClose: true } : { timeoutMs: 200 })),
    );
    closedByProxy += results.filter((r) => r.closed).length;
    halfClosedLeftOpen += results.filter((r, i) => halfClose[i] && !r.closed).length;
  }
  t.ok(closedByProxy > 0, `the proxy closed ${closedByProxy} of the 1,000 connections itself`);
  t.equal(halfClosedLeftOpen, 0, 'every client that shut its side was closed by the proxy');
  t.equal(proxy.child.exitCode, null, 'still running');
  t.notMatch(proxy.logs(), /Error|at .*\.js:\d+/, 'no stack trace in the log');
  const c = new Redis({ port, host: '127.0.0.1', protocol: 2, lazyConnect: true });
  t.teardown(() => c.disconnect());
  t.equal(await c.get('r:k'), 'still here', 'serves a new client');
});

t.test('Redis unreachable: an error reply per GET and per MGET key; served again once Redis is back', async (t) => {
  const own = await startRedis(t);
  const proxy = await startProxy(t, { REDIS_URL: own.url, SHARDS: '2', RESP_PORT: '0', REDIS_TIMEOUT_MS: '200', CACHE_TTL_MS: '0' });
  await own.client.set('o:k', 'v');
  const c = new Redis({ port: proxy.respPort!, host: '127.0.0.1', protocol: 2, lazyConnect: true, maxRetriesPerRequest: 0 });
  t.teardown(() => c.disconnect());
  t.equal(await c.get('o:k'), 'v');
  await own.stop();
  await t.rejects(c.get('o:k'), { message: 'ERR redis unavailable or slower than REDIS_TIMEOUT_MS, try again' });
  const [, mget] = (await c.pipeline().ping().mget('o:k', 'o:k2').exec())!;
  t.same(
    (mget![1] as unknown[]).map((e) => (e as Error).message),
    [
      'ERR redis unavailable or slower than REDIS_TIMEOUT_MS, try again',
      'ERR redis unavailable or slower than REDIS_TIMEOUT_MS, try again',
    ],
    'MGET: an error element per key',
  );
  await own.restart();
  const deadline = Date.now() + 10000;
  let value: string | null = null;
  while (Date.now() < deadline && value !== 'back') {
    await own.client.set('o:k', 'back').catch(() => undefined);
    value = await c.get('o:k').catch(() => null);
    if (value !== 'back') await sleep(100);
  }
  t.equal(value, 'back', 'served again once Redis is back');
});

t.test('SIGTERM ends open RESP connections and exits 0', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', RESP_PORT: '0' });
  const socket = net.connect({ port: proxy.respPort!, host: '127.0.0.1' });
  await new Promise((resolve) => socket.once('connect', resolve));
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.on('error', () => {});
  t.equal(await proxy.stop(), 0);
  await closed;
  t.pass('the client saw the connection close');
});

t.test('RESP_PORT already taken: exit 1 naming the setting', async (t) => {
  const squatter = net.createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  t.teardown(() => squatter.close());
  const { port } = squatter.address() as net.AddressInfo;
  const { code, stderr } = await runProxy({ REDIS_URL: redis.url, SHARDS: '1', PORT: '0', RESP_PORT: String(port) });
  t.equal(code, 1);
  t.match(stderr, `cannot listen on 127.0.0.1:${port}: EADDRINUSE (RESP_PORT)`);
});
