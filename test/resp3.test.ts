/**
 * RESP3 on the RESP listener of the built proxy, checked byte for byte
 * against a real redis-server 7.0 sent the same commands: HELLO, the nulls,
 * maps and verbatim strings of RESP3, switching back with HELLO 2, and the
 * RESP3 bit that rides on the requests to the shards.
 */
import t from 'tap';
import net from 'node:net';
import type { Dispatcher } from '../src/acceptor/dispatcher.js';
import { RespConnection } from '../src/acceptor/resp/connection.js';
import { Logins } from '../src/acceptor/resp/auth.js';
import { RESP_LIMITS } from '../src/acceptor/resp/server.js';
import type { Sink } from '../src/acceptor/sink.js';
import { Outcome, Protocol, RESP3_FLAG } from '../src/hop/vocabulary.js';
import { RESP_COMMANDS, RESP_STATUSES } from '../src/metrics/labels.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { againstRedis, command, decodeAll, exchange, sendAll } from './helpers/resp.js';
import { scrape, total, waitForTotal } from './helpers/metrics.js';

const redis = await startRedis(t);
const proxy = await startProxy(t, { REDIS_URL: redis.url, RESP_PORT: '0', SHARDCACHE_TEST_DELAY_GET: 'held::200' });
await redis.client.set('r3:k', 'v');
await redis.client.rpush('r3:list', 'x');

t.test("HELLO 3 and HELLO 2 answer Redis 7.0's maps, with shardcache's name, version and id", async (t) => {
  const sequence = [['HELLO', '3'], ['HELLO', '2'], ['HELLO'], ['HELLO', '3', 'SETNAME', 'n1'], ['HELLO']];
  const { replies, differ } = await againstRedis(redis.port, proxy.respPort!, sequence);
  t.same(differ, [], "Redis's bytes but for the server's name, version and the connection id");
  t.match(replies[0], /^%7\r\n\$6\r\nserver\r\n\$10\r\nshardcache\r\n/, 'HELLO 3: a map of 7');
  t.match(replies[1], /^\*14\r\n/, 'HELLO 2: a flat array of 14');
  t.match(replies[4], /\$5\r\nproto\r\n:3\r\n/, 'HELLO without a version keeps RESP3');
});

t.test("on RESP3 every reply but HELLO's is Redis 7.0's, byte for byte", async (t) => {
  const sequence = [
    ['HELLO', '3'],
    ['GET', 'r3:k'],
    ['GET', 'r3:none'],
    ['MGET', 'r3:k', 'r3:none', 'r3:list'],
    ['GET', 'r3:list'],
    ['get', 'r3:k'],
    ['CLIENT', 'GETNAME'],
    ['CLIENT', 'SETNAME', 'named'],
    ['CLIENT', 'GETNAME'],
    ['CLIENT', 'SETNAME', ''],
    ['CLIENT', 'GETNAME'],
    ['CONFIG', 'GET', 'save'],
    ['CONFIG', 'GET', 'appendonly', 'nothing'],
    ['CONFIG', 'GET', 'nothing'],
    ['INFO', 'nosuch'],
    ['PING'],
    ['PING', 'hi'],
    ['ECHO', 'x\r\ny'],
    ['SELECT', '0'],
    ['SELECT', 'one'],
    ['HELLO', '4'],
    ['HELLO', '1'],
    ['HELLO', '-1'],
    ['HELLO', 'x'],
    ['HELLO', '03'],
    ['HELLO', '+3'],
    ['HELLO', '9223372036854775808'],
    ['HELLO', '3', 'FOO'],
    ['HELLO', '3', 'AUTH', 'default'],
    ['HELLO', '3', 'SETNAME', 'a b'],
    ['GET'],
    ['MULTI'],
    ['GET', 'r3:k'],
    ['GET', 'r3:none'],
    ['MGET', 'r3:none', 'r3:k'],
    ['CLIENT', 'GETNAME'],
    ['EXEC'],
    ['HELLO', '2'],
    ['GET', 'r3:none'],
    ['MGET', 'r3:k', 'r3:none'],
    ['CLIENT', 'GETNAME'],
    ['CONFIG', 'GET', 'save'],
    ['INFO', 'nosuch'],
    ['GET', 'kkkkkkkkkk'],
  ];
  const { replies: fromProxy, differ } = await againstRedis(redis.port, proxy.respPort!, sequence);
  t.equal(fromProxy.length, sequence.length, 'a reply to every command');
  t.same(differ, [], 'the same bytes as Redis, HELLO but for its server, version and id');
  // Spot checks of what "the same" means here.
  t.equal(fromProxy[2], '_\r\n', 'a nil GET is RESP3 null');
  t.equal(fromProxy[3], '*3\r\n$1\r\nv\r\n_\r\n_\r\n', 'MGET: null elements, a non-string key too');
  t.equal(fromProxy[11], '%1\r\n$4\r\nsave\r\n$0\r\n\r\n', 'CONFIG GET is a map');
  t.equal(fromProxy[14], '=4\r\ntxt:\r\n', 'INFO is a verbatim string');
  t.equal(fromProxy[36], '*4\r\n$1\r\nv\r\n_\r\n*2\r\n_\r\n$1\r\nv\r\n_\r\n', 'EXEC is an array in RESP3 too');
  t.equal(fromProxy[38], '$-1\r\n', 'after HELLO 2, RESP2 again');
});

t.test('what differs from Redis on purpose: the server section and the empty command table', async (t) => {
  const [hello, docs, commands, info, count] = await sendAll(proxy.respPort!, [
    ['HELLO', '3'],
    ['COMMAND', 'DOCS'],
    ['COMMAND'],
    ['INFO'],
    ['COMMAND', 'COUNT'],
  ]);
  t.match(hello, /^%7\r\n/);
  t.equal(docs, '%0\r\n', 'COMMAND DOCS: an empty map (Redis: a map of every command)');
  t.equal(commands, '*0\r\n', 'COMMAND: an empty array');
  t.equal(count, ':0\r\n');
  const text = /^=(\d+)\r\ntxt:(# Server\r\nredis_version:7\.0\.0\r\nshardcache_version:0\.1\.0\r\n[\s\S]*)\r\n$/.exec(info!);
  t.ok(text, 'INFO: the server section as a verbatim txt string');
  t.equal(Number(text![1]), text![2]!.length + 4, 'whose length counts the txt: prefix');
});

t.test('each reply is in the protocol in force when its command ran, though a miss answers after the HELLO', async (t) => {
  // The held: misses answer 200 ms later, after the HELLOs that follow them have run.
  const sequence = [
    ['GET', 'held:none'],
    ['HELLO', '3'],
    ['GET', 'held:none'],
    ['MGET', 'held:a', 'r3:k'],
    ['HELLO', '2'],
    ['GET', 'held:none'],
    ['MGET', 'held:a'],
  ];
  const { replies, differ } = await againstRedis(redis.port, proxy.respPort!, sequence);
  t.same(differ, [], "Redis's bytes");
  t.same(
    [0, 2, 3, 5, 6].map((i) => replies[i]),
    ['$-1\r\n', '_\r\n', '*2\r\n_\r\n$1\r\nv\r\n', '$-1\r\n', '*1\r\n$-1\r\n'],
  );
});

t.test('RESP3 requests carry their bit to the shards and are still counted as RESP hits and misses', async (t) => {
  // A proxy of its own, so that every count is this test's.
  const fresh = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', RESP_PORT: '0' });
  await redis.client.set('r3:count', 'c');
  const get = async (): Promise<unknown> =>
    decodeAll(
      (await exchange(fresh.respPort!, Buffer.concat([command('HELLO', '3'), command('GET', 'r3:count')]), { replies: 2 })).data,
    )[1];
  t.equal(await get(), 'c');
  // The shards publish their counters a moment later.
  t.equal(await waitForTotal(fresh.admin, 'shardcache_cache_misses_total', { protocol: 'resp' }, 1), 1, 'the first GET missed');
  t.equal(await get(), 'c');
  t.equal(await waitForTotal(fresh.admin, 'shardcache_cache_hits_total', { protocol: 'resp' }, 1), 1, 'the second hit');
  const m = await scrape(fresh.admin);
  t.same(
    [total(m, 'shardcache_cache_hits_total', { protocol: 'http' }), total(m, 'shardcache_cache_misses_total', { protocol: 'http' })],
    [0, 0],
    'none counted as HTTP',
  );
});

t.test('a RESP3 connection sets RESP3_FLAG on the requests it hands the dispatcher, a RESP2 one does not', async (t) => {
  const metas: [string, number][] = [];
  const dispatcher = {
    shards: 1,
    submit(_shard: number, key: string, sink: Sink, token: unknown, flags: number): void {
      metas.push([key, sink.protocol]);
      sink.answer(token, flags, Outcome.NotFound, undefined, 0, undefined, -1);
    },
  } as unknown as Dispatcher;
  const server = net.createServer((socket) => {
    new RespConnection(socket, 1, {
      dispatcher,
      limits: RESP_LIMITS,
      facts: { maxKeyBytes: 64, shards: 1, port: 0, startedAt: 0, connections: 1, logins: new Logins(undefined, undefined) },
      counts: new Float64Array(RESP_COMMANDS.length * RESP_STATUSES.length),
      markDirty: (c) => queueMicrotask(() => c.flushAnswers()),
      forget: () => {},
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const sequence = [
    ['GET', 'a'],
    ['HELLO', '3'],
    ['GET', 'b'],
    ['MGET', 'c', 'd'],
    ['HELLO', '2'],
    ['GET', 'e'],
  ];
  const got = await sendAll(port, sequence);
  t.same([got[0], got[2], got[3], got[5]], ['$-1\r\n', '_\r\n', '*2\r\n_\r\n_\r\n', '$-1\r\n']);
  t.same(metas, [
    ['a', Protocol.Resp],
    ['b', Protocol.Resp | RESP3_FLAG],
    ['c', Protocol.Resp | RESP3_FLAG],
    ['d', Protocol.Resp | RESP3_FLAG],
    ['e', Protocol.Resp],
  ]);
});
