/**
 * The RESP listener under bad input and bad times: malformed frames, random
 * bytes, a Redis outage, a stop while clients are connected.
 */
import t from 'tap';
import net from 'node:net';
import { Redis } from 'ioredis';
import { runProxy, startProxy, startRedis } from './helpers/processes.js';
import { command, decodeAll, exchange, helloAsShardcache, sendAll } from './helpers/resp.js';
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

/** Sends each connection's commands to Redis and to the proxy, and lists where the replies differ (HELLO's server, version and id aside). */
async function differential(port: number, connections: string[][][]): Promise<string[]> {
  const differ: string[] = [];
  for (const commands of connections) {
    const fromRedis = await sendAll(redis.port, [['CLIENT', 'ID'], ...commands], 20000);
    const fromProxy = await sendAll(port, [['CLIENT', 'ID'], ...commands], 20000);
    const id = decodeAll(Buffer.from(fromProxy[0]!, 'latin1'))[0] as number;
    if (fromProxy.length !== fromRedis.length) differ.push(`${fromProxy.length} replies, Redis ${fromRedis.length}`);
    commands.forEach((c, i) => {
      const expected = helloAsShardcache(fromRedis[i + 1] ?? '', id);
      if (fromProxy[i + 1] !== expected)
        differ.push(`${JSON.stringify(c)}: ${JSON.stringify(fromProxy[i + 1])} ≠ ${JSON.stringify(expected)}`);
    });
  }
  return differ;
}

t.test(
  "1,000 commands, three in four an odd or malformed HELLO: Redis 7.0's reply to each, byte for byte, and the state they leave",
  async (t) => {
    const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', RESP_PORT: '0' });
    const rand = seededRandom(0x4e110);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
    const versions = ['2', '3', '1', '4', '0', '-1', '-0', '03', '+3', '3.0', '', ' 3', '3\r\n', '\x00', 'x', '9223372036854775807'];
    const options = [
      ['SETNAME', 'ok-name'],
      ['SETNAME', 'bad name'],
      ['SETNAME', ''],
      ['SETNAME'],
      ['setname', 'lower'],
      ['AUTH', 'default', 'anything'],
      ['AUTH', 'default'],
      ['AUTH', 'nobody', 'pw'],
      ['AUTH'],
      ['FOO'],
    ];
    const connections = Array.from({ length: 10 }, () =>
      Array.from({ length: 100 }, (): string[] => {
        const kind = rand();
        // What the HELLOs left behind: the protocol (a nil's encoding) and the name.
        if (kind < 0.15) return ['GET', 'h:none'];
        if (kind < 0.25) return ['CLIENT', 'GETNAME'];
        const hello = ['HELLO'];
        if (rand() < 0.9) hello.push(pick(versions));
        for (let n = Math.floor(rand() * 3); n > 0; n--) hello.push(...pick(options));
        return hello;
      }),
    );
    t.same(await differential(proxy.respPort!, connections), [], 'the same replies as Redis');
    t.equal(proxy.child.exitCode, null, 'still running');
  },
);

t.test("2,000 random MULTI / EXEC / DISCARD sequences of reads: Redis 7.0's replies, byte for byte", async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', RESP_PORT: '0' });
  await redis.client.mset('x:a', 'A', 'x:b', 'B');
  await redis.client.del('x:list');
  await redis.client.rpush('x:list', 'l');
  const rand = seededRandom(0x7a5);
  const reads = [
    ['GET', 'x:a'],
    ['GET', 'x:none'],
    ['MGET', 'x:b', 'x:none', 'x:list'],
    ['GET', 'x:list'],
    ['PING'],
    ['ECHO', 'e'],
    ['CLIENT', 'GETNAME'],
    ['UNWATCH'],
    ['HELLO', '3'],
    ['HELLO', '2'],
    ['HELLO', '5'],
  ];
  const control = [['MULTI'], ['EXEC'], ['DISCARD'], ['MULTI', 'x'], ['EXEC', 'x'], ['GET'], ['MGET']];
  const connections = Array.from({ length: 20 }, () => {
    let inMulti = false;
    return Array.from({ length: 100 }, (): string[] => {
      const kind = rand();
      const next = kind < 0.55 ? reads[Math.floor(rand() * reads.length)]! : control[Math.floor(rand() * control.length)]!;
      // WATCH outside MULTI is where the proxy answers otherwise (it is refused); inside, both refuse it alike.
      if (kind > 0.97 && inMulti) return ['WATCH', 'x:a'];
      if (next[0] === 'MULTI' && next.length === 1) inMulti = true;
      // An EXEC of the wrong arity discards the transaction too (EXECABORT … because of: …).
      if (next[0] === 'EXEC' || (next[0] === 'DISCARD' && next.length === 1)) inMulti = false;
      return next;
    });
  });
  t.same(await differential(proxy.respPort!, connections), [], 'the same replies as Redis');
});

t.test('MULTI floods: clients that queue past the bound and never EXEC are refused, then forgotten; others are served', async (t) => {
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', RESP_PORT: '0' });
  await redis.client.set('f:k', 'v');
  const flood = Buffer.concat([command('MULTI'), Buffer.concat(Array(40000).fill(command('GET', 'f:k')))]);
  const floods = await Promise.all(
    Array.from({ length: 20 }, () => exchange(proxy.respPort!, flood, { replies: 40001, timeoutMs: 30000 })),
  );
  for (const { data } of floods) {
    const replies = decodeAll(data);
    t.equal(replies.length, 40001);
    t.ok(replies.slice(1, 32769).every((r) => r === 'QUEUED'));
    t.match(replies[32769], { error: /^ERR transaction too large/ });
    t.ok(
      replies.slice(32770).every((r) => r === 'QUEUED'),
      'nothing kept past the bound, each still answered',
    );
  }
  t.same(decodeAll((await exchange(proxy.respPort!, command('GET', 'f:k'), { replies: 1 })).data), ['v'], 'a new client is served');
  t.equal(proxy.child.exitCode, null, 'still running');
});
