/**
 * MULTI / EXEC / DISCARD / WATCH on the RESP listener of the built proxy:
 * Redis 7.0's replies where the proxy does what Redis does (checked against
 * a real redis-server sent the same commands), its own where it cannot
 * (writes, WATCH), replies in order whatever answers first, and the bound
 * on what a transaction may queue.
 */
import t from 'tap';
import { startProxy, startRedis } from './helpers/processes.js';
import { commandCalls } from './helpers/commandstats.js';
import { decodeAll, exchange, command, sendAll } from './helpers/resp.js';

const redis = await startRedis(t);
const proxy = await startProxy(t, {
  REDIS_URL: redis.url,
  SHARDS: '2',
  RESP_PORT: '0',
  CACHE_TTL_MS: '60000',
  SHARDCACHE_TEST_DELAY_GET: 'held::200',
});
const port = proxy.respPort!;
await redis.client.mset('tx:a', 'A', 'tx:b', 'B', 'held:a', 'HA', 'held:b', 'HB');
await redis.client.rpush('tx:list', 'x');

const EXECABORT = '-EXECABORT Transaction discarded because of previous errors.\r\n';

t.test("reads in MULTI … EXEC, and the control errors, are Redis 7.0's byte for byte", async (t) => {
  const sequence = [
    ['EXEC'],
    ['DISCARD'],
    ['MULTI', 'x'],
    ['MULTI'],
    ['MULTI'],
    ['GET', 'tx:a'],
    ['WATCH', 'tx:a'],
    ['GET', 'tx:none'],
    ['MGET', 'tx:a', 'tx:none', 'tx:list', 'tx:b'],
    ['GET', 'tx:list'],
    ['PING'],
    ['ECHO', 'e'],
    ['CLIENT', 'GETNAME'],
    ['CONFIG', 'GET', 'save'],
    ['SELECT', 'one'],
    ['UNWATCH'],
    ['EXEC'],
    ['EXEC'],
    ['MULTI'],
    ['EXEC'],
    ['MULTI'],
    ['GET', 'tx:a'],
    ['DISCARD'],
    ['MULTI'],
    ['GET'],
    ['GET', 'tx:a'],
    ['EXEC'],
    ['MULTI'],
    ['WATCH'],
    ['EXEC'],
    ['MULTI'],
    ['HELLO', '3', 'SETNAME', 'a b'],
    ['HELLO', 'x'],
    ['EXEC'],
    ['GET', 'tx:a'],
    ['MULTI'],
    ['QUIT'],
  ];
  const fromRedis = await sendAll(redis.port, sequence);
  const fromProxy = await sendAll(port, sequence);
  t.equal(fromProxy.length, sequence.length, 'a reply to every command');
  const differ = sequence.flatMap((c, i) =>
    fromProxy[i] === fromRedis[i] ? [] : [`${c.join(' ')}: ${JSON.stringify(fromProxy[i])} ≠ ${JSON.stringify(fromRedis[i])}`],
  );
  t.same(differ, [], 'the same bytes as Redis');
  // What "the same" means, spelled out.
  t.same(decodeAll(Buffer.from(fromProxy.slice(0, 7).join(''), 'latin1')), [
    { error: 'ERR EXEC without MULTI' },
    { error: 'ERR DISCARD without MULTI' },
    { error: "ERR wrong number of arguments for 'multi' command" },
    'OK',
    { error: 'ERR MULTI calls can not be nested' },
    'QUEUED',
    { error: 'ERR WATCH inside MULTI is not allowed' },
  ]);
  t.same(
    decodeAll(Buffer.from(fromProxy[16]!, 'latin1')),
    [
      [
        'A',
        null,
        ['A', null, null, 'B'],
        { error: 'WRONGTYPE Operation against a key holding the wrong kind of value' },
        'PONG',
        'e',
        null,
        ['save', ''],
        { error: 'ERR value is not an integer or out of range' },
        'OK',
      ],
    ],
    'EXEC: every queued reply in order, errors of running included; nested MULTI and WATCH left the transaction open',
  );
  t.equal(fromProxy[26], EXECABORT, 'a wrong arity when queued aborts EXEC');
  t.equal(fromProxy[29], EXECABORT, 'so does WATCH without a key');
  t.equal(
    fromProxy[33],
    '*2\r\n-ERR Client names cannot contain spaces, newlines or special characters.\r\n-ERR Protocol version is not an integer or out of range\r\n',
  );
  t.equal(fromProxy[36], '+OK\r\n', 'QUIT inside MULTI is run at once');
});

t.test('a write or unknown command inside MULTI is refused when queued, and EXEC aborts; Redis sees nothing', async (t) => {
  const before = await commandCalls(redis.client, 'set', 'del', 'get', 'mget', 'eval', 'evalsha');
  const replies = await sendAll(port, [
    ['MULTI'],
    ['GET', 'tx:a'],
    ['SET', 'tx:a', 'changed'],
    ['DEL', 'tx:b'],
    ['NOSUCH'],
    ['GET', 'tx:b'],
    ['EXEC'],
    ['GET', 'tx:a'],
    ['EXEC'],
  ]);
  t.same(decodeAll(Buffer.from(replies.join(''), 'latin1')), [
    'OK',
    'QUEUED',
    { error: "ERR unknown or unsupported command 'SET'" },
    { error: "ERR unknown or unsupported command 'DEL'" },
    { error: "ERR unknown or unsupported command 'NOSUCH'" },
    'QUEUED',
    { error: 'EXECABORT Transaction discarded because of previous errors.' },
    'A',
    { error: 'ERR EXEC without MULTI' },
  ]);
  t.equal(await redis.client.get('tx:a'), 'A');
  t.equal(await redis.client.get('tx:b'), 'B');
  const after = await commandCalls(redis.client, 'set', 'del', 'get', 'mget', 'eval', 'evalsha');
  // Our own two GETs just above, and at most one read for tx:a if it was not cached yet.
  t.ok(after - before <= 3, `Redis ran no write: ${after - before} reads (our own 2 and the proxy's at most 1)`);
});

t.test('WATCH is refused, saying why', async (t) => {
  const replies = await sendAll(port, [['WATCH', 'tx:a'], ['WATCH'], ['UNWATCH'], ['GET', 'tx:a']]);
  t.same(decodeAll(Buffer.from(replies.join(''), 'latin1')), [
    {
      error:
        'ERR WATCH is not supported: shardcache answers reads from its cache and cannot see a write to a watched key; send WATCH and its transaction to Redis itself',
    },
    { error: "ERR wrong number of arguments for 'watch' command" },
    'OK',
    'A',
  ]);
});

t.test('EXEC answers in order though misses answer after hits, and what follows EXEC waits its turn', async (t) => {
  await sendAll(port, [
    ['GET', 'tx:a'],
    ['GET', 'tx:b'],
  ]); // cached: hits from now on
  for (const resp of ['2', '3']) {
    const sequence = [
      ['HELLO', resp],
      ['MULTI'],
      ['GET', `held:a`],
      ['GET', 'tx:a'],
      ['MGET', 'tx:b', 'held:b', 'tx:none', 'tx:a'],
      ['GET', 'held:none'],
      ['PING'],
      ['EXEC'],
      ['GET', 'tx:b'],
      ['MGET', 'held:a', 'tx:a'],
    ];
    const started = performance.now();
    const replies = await sendAll(port, sequence);
    const nil = resp === '2' ? '$-1\r\n' : '_\r\n';
    t.same(
      replies.slice(1),
      [
        '+OK\r\n',
        ...Array(5).fill('+QUEUED\r\n'),
        `*5\r\n$2\r\nHA\r\n$1\r\nA\r\n*4\r\n$1\r\nB\r\n$2\r\nHB\r\n${nil}$1\r\nA\r\n${nil}+PONG\r\n`,
        '$1\r\nB\r\n',
        '*2\r\n$2\r\nHA\r\n$1\r\nA\r\n',
      ],
      `RESP${resp}`,
    );
    t.ok(performance.now() - started >= 150, 'the held misses did come last');
    // Misses are not cached: held:none is held again next round, and held:a/b are now hits.
    await redis.client.del('held:a', 'held:b');
    await redis.client.mset('held:a', 'HA', 'held:b', 'HB');
  }
});

t.test('a transaction holds at most 65,536 arguments and 16 MiB: past that, an error and EXEC aborts', async (t) => {
  // 32,768 GETs are 65,536 arguments, the bound exactly (MULTI itself is not queued); the next GET passes it.
  const many = Buffer.concat([
    command('MULTI'),
    Buffer.concat(Array(32770).fill(command('GET', 'tx:a'))),
    command('EXEC'),
    command('PING'),
  ]);
  const { data } = await exchange(port, many, { replies: 32773, timeoutMs: 30000 });
  const replies = decodeAll(data);
  t.equal(replies.length, 32773);
  t.equal(replies[0], 'OK');
  t.ok(
    replies.slice(1, 32769).every((r) => r === 'QUEUED'),
    '32,768 GETs queued',
  );
  const tooLarge = {
    error: 'ERR transaction too large: at most 65536 arguments and 16 MiB between MULTI and EXEC; EXEC will abort',
  };
  t.same(replies[32769], tooLarge, 'the one past the bound is refused');
  t.same(replies[32770], 'QUEUED', 'after that nothing is kept, EXEC being sure to abort');
  t.same(replies.slice(32771), [{ error: 'EXECABORT Transaction discarded because of previous errors.' }, 'PONG']);

  // 16 MiB: MGETs of 200 keys of 60,000 bytes (12 MB each; keys are checked against MAX_KEY_BYTES only when run).
  const keys = Array.from({ length: 200 }, (_, i) => `${i}`.padEnd(60000, 'k'));
  const big = command('MGET', ...keys);
  const bytes = await exchange(port, Buffer.concat([command('MULTI'), big, big, command('EXEC'), command('PING')]), {
    replies: 5,
    timeoutMs: 30000,
  });
  t.same(decodeAll(bytes.data), [
    'OK',
    'QUEUED',
    tooLarge,
    { error: 'EXECABORT Transaction discarded because of previous errors.' },
    'PONG',
  ]);
});

t.test('a client that opens MULTI and never sends EXEC holds nothing once gone, and others are served', async (t) => {
  const { data, closed } = await exchange(port, Buffer.concat([command('MULTI'), command('GET', 'tx:a')]), { halfClose: true });
  t.same(decodeAll(data), ['OK', 'QUEUED']);
  t.ok(closed, 'closed when the client shut its side: the transaction is dropped with the connection');
  t.same(await sendAll(port, [['GET', 'tx:a']]), ['$1\r\nA\r\n']);
});

t.test('an EXEC of 32,768 reads runs them at the pace of a pipeline: none shed, all in order', async (t) => {
  // Handed to the shards all at once, 32,768 reads would pass MAX_INFLIGHT (1000 by default) and be shed.
  const keys = Array.from({ length: 64 }, (_, i) => `tx:many:${i}`);
  await redis.client.mset(...keys.flatMap((k, i) => [k, `m${i}`]));
  const n = 32768;
  const gets = Array.from({ length: n }, (_, i) => command('GET', keys[i % 64]!));
  const { data } = await exchange(port, Buffer.concat([command('MULTI'), ...gets, command('EXEC'), command('PING')]), {
    replies: n + 3,
    timeoutMs: 60000,
  });
  const replies = decodeAll(data);
  t.equal(replies.length, n + 3);
  const exec = replies[n + 1] as unknown[];
  t.equal(exec.length, n);
  t.ok(
    exec.every((r, i) => r === `m${i % 64}`),
    'every value, in order',
  );
  t.equal(replies[n + 2], 'PONG');
});
