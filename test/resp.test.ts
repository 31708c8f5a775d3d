/**
 * Black-box tests of the RESP listener of the built proxy, with real Redis
 * clients (ioredis) and raw bytes, in front of a private
 * redis-server. Connection commands, refused commands and redis-cli:
 * resp-commands.test.ts.
 */
import t from 'tap';
import net from 'node:net';
import { shardOf } from '../src/routing/hash.js';
import { SCRIPT, TTL_SCRIPT } from '../src/shard/redis/expiry-read.js';
import { agent, get } from './helpers/http.js';
import { startProxy } from './helpers/processes.js';
import { respProxy } from './helpers/resp-proxy.js';
import { command, decodeAll, exchange, type Reply } from './helpers/resp.js';
import { sleep } from './helpers/time.js';

const { redis, proxy, port, client, calls } = await respProxy(t);

t.test('the RESP port is logged', async (t) => {
  t.match(proxy.logs(), `shardcache RESP listening on redis://127.0.0.1:${port}`);
});

t.test('ioredis 6 asks for RESP3 by default and gets it: GET, nil, MGET, MULTI, PING, INFO', async (t) => {
  await redis.client.set('io:a', 'alpha');
  const c = client();
  await c.connect();
  t.equal(await c.get('io:a'), 'alpha');
  t.equal(await c.get('io:none'), null);
  t.same(await c.mget('io:a', 'io:none'), ['alpha', null]);
  t.same(await c.multi().get('io:a').get('io:none').exec(), [
    [null, 'alpha'],
    [null, null],
  ]);
  t.equal(await c.ping(), 'PONG');
  t.match(await c.info(), /^# Server\r\nredis_version:7\.0\.0\r\n/, 'INFO, a verbatim string in RESP3, reads as text');
  t.same(await c.call('HELLO', '3'), [
    'server',
    'shardcache',
    'version',
    '0.1.0',
    'proto',
    3,
    'id',
    await c.client('ID'),
    'mode',
    'standalone',
    'role',
    'master',
    'modules',
    [],
  ]);
  await t.rejects(c.call('HELLO', '4'), { message: 'NOPROTO unsupported protocol version' });
});

t.test('ioredis with protocol: 2: GET, MGET across four shards, pipelines, binary values', async (t) => {
  const c = client({ protocol: 2 });
  await c.connect();
  const keys = Array.from({ length: 40 }, (_, i) => `mget:${i}`);
  t.same(new Set(keys.map((k) => shardOf(k, 4))).size, 4, 'the keys span all four shards');
  await redis.client.mset(...keys.flatMap((key, i) => (i % 5 === 0 ? [] : [key, `v${i}`])));
  await redis.client.rpush('mget:list', 'x');
  const expected = keys.map((_, i) => (i % 5 === 0 ? null : `v${i}`));
  // Loaded now, so that no shard's first EVALSHA meets a NOSCRIPT (then an EVAL) in the counts below.
  for (const script of [SCRIPT, TTL_SCRIPT]) await redis.client.script('LOAD', script);
  const before = [await calls('pttl'), (await calls('evalsha')) + (await calls('eval'))];
  t.same(await c.mget(...keys, 'mget:list'), [...expected, null], 'in order; absent and non-string keys are nil, as in Redis');
  t.same(await c.mget(...keys), expected, 'again, from the cache');
  // Each shard gets its keys of an MGET in one batch and sends Redis one
  // MGET and one TTL script for its misses (expiry-read.ts; one script for
  // a single key), a PTTL per key, which tells absent from wrong type too;
  // the list's nil, whose key exists, is read once more by the one-key
  // script. A value is cached, an absence is not: the repeat asks Redis
  // again for the 8 absent keys only.
  const noString = (k: string): boolean => k === 'mget:list' || Number(k.slice(5)) % 5 === 0;
  let gets = 0;
  let scripts = 0;
  for (const misses of [[...keys, 'mget:list'], keys.filter(noString)]) {
    for (let shard = 0; shard < 4; shard++) {
      const own = misses.filter((k) => shardOf(k, 4) === shard);
      if (own.length > 0) scripts++;
      gets += own.length;
      // The list key of another type, read again (a batch of one key is read at one instant: no need).
      if (own.length > 1 && own.includes('mget:list')) {
        scripts++;
        gets++;
      }
    }
  }
  // mget:list, found to be a list, is read once more whole by the typed script (typed-read.ts): one more
  // PTTL, and an EVALSHA that Redis answers NOSCRIPT the first time, then an EVAL.
  gets++;
  scripts += 2;
  t.same(
    [(await calls('pttl')) - before[0]!, (await calls('evalsha')) + (await calls('eval')) - before[1]!],
    [gets, scripts],
    `Redis got ${scripts} scripts and ${gets} PTTLs in them, as predicted`,
  );
  t.ok(scripts >= 4, 'the 41 keys spread over 4 shards took a script each at least');
  const pipeline = c.pipeline();
  for (const k of keys) pipeline.get(k);
  t.same(
    (await pipeline.exec())!.map(([, v]) => v),
    expected,
  );
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  await redis.client.set(Buffer.from([0, 0xff, 0x0d, 0x0a]), bytes);
  t.same(await c.getBuffer(Buffer.from([0, 0xff, 0x0d, 0x0a])), bytes, 'binary key and value');
  await t.rejects(c.get('mget:list'), { message: /^WRONGTYPE Operation against a key holding the wrong kind of value/ });
});

t.test('the RESP and HTTP paths share one cache', async (t) => {
  await redis.client.set('shared', 'first');
  const http = agent(1);
  t.teardown(() => http.close());
  t.equal((await get(proxy.url, '/shared', { dispatcher: http })).body.toString(), 'first');
  const before = await calls('get');
  const c = client({ protocol: 2 });
  t.equal(await c.get('shared'), 'first');
  t.equal(await calls('get'), before, 'cached by the HTTP request: the RESP GET sent no GET to Redis');
});

t.test('many commands in one write are answered in order, hits and misses mixed', async (t) => {
  const keys = Array.from({ length: 200 }, (_, i) => `pipe:${i}`);
  await redis.client.mset(...keys.flatMap((k, i) => [k, `p${i}`]));
  // Warm every other key, so hits overtake misses inside the batch.
  const warm = client({ protocol: 2 });
  await warm.mget(...keys.filter((_, i) => i % 2 === 0));
  const parts: Buffer[] = [];
  const expected: Reply[] = [];
  for (let n = 0; n < 6000; n++) {
    const i = n % keys.length;
    if (n % 7 === 3) {
      parts.push(command('MGET', keys[i]!, 'pipe:none', keys[(i + 1) % keys.length]!));
      expected.push([`p${i}`, null, `p${(i + 1) % keys.length}`]);
    } else if (n % 11 === 5) {
      parts.push(Buffer.from(`PING\r\n`));
      expected.push('PONG');
    } else {
      parts.push(command('get', keys[i]!));
      expected.push(`p${i}`);
    }
  }
  parts.push(command('QUIT'));
  expected.push('OK');
  const { data, closed } = await exchange(port, Buffer.concat(parts), { timeoutMs: 20000 });
  const replies = decodeAll(data);
  t.equal(replies.length, expected.length, 'one reply per command');
  t.same(replies, expected, 'in request order');
  t.ok(closed, 'QUIT closes after the last reply');
});

t.test('a batch of replies ready at once, larger than the reply queue, is answered whole', async (t) => {
  // PING and errors are answered without a shard: reading must go on by
  // itself once the queue has room, even though no shard answer wakes it.
  const batch = Buffer.from('PING\r\nNOPE\r\n'.repeat(5000));
  for (const halfClose of [false, true]) {
    const { data, closed } = await exchange(
      port,
      batch,
      halfClose ? { halfClose, timeoutMs: 10000 } : { replies: 10000, timeoutMs: 10000 },
    );
    const replies = decodeAll(data);
    t.equal(replies.length, 10000, halfClose ? 'the client shut its side after writing' : 'the client keeps its side open');
    t.ok(
      replies.every((r, i) =>
        i % 2 === 0 ? r === 'PONG' : (r as { error: string }).error === "ERR unknown or unsupported command 'NOPE'",
      ),
      'in order',
    );
    if (halfClose) t.ok(closed, 'then the proxy closes');
  }
});

t.test('large values are written whole, in order, also to a client slow to read', async (t) => {
  const big = 'L'.repeat(300 * 1024);
  await redis.client.mset('big', big, 'small', 's');
  const batch = Buffer.concat(Array.from({ length: 60 }, (_, i) => command('GET', i % 3 === 0 ? 'small' : 'big')));
  const bytes = 20 * '$1\r\ns\r\n'.length + 40 * `$${big.length}\r\n${big}\r\n`.length;
  const { data } = await exchange(port, batch, { bytes, readDelayMs: 300, timeoutMs: 20000 });
  const replies = decodeAll(data);
  t.equal(replies.length, 60);
  t.ok(
    replies.every((r, i) => r === (i % 3 === 0 ? 's' : big)),
    'every value intact and in order',
  );
});

t.test('a client that shuts down its side still gets every reply', async (t) => {
  await redis.client.set('half', 'open');
  const { data, closed } = await exchange(port, 'GET half\r\nGET half:none\r\nPING\r\n', { halfClose: true });
  t.same(decodeAll(data), ['open', null, 'PONG']);
  t.ok(closed);
});

t.test('replies ready at once wait for the GET sent after them: one write, not two', async (t) => {
  // The GET replies of `held:` keys are held 200 ms in the shard, so a reply
  // written early would arrive long before the rest.
  const slow = await startProxy(t, { REDIS_URL: redis.url, RESP_PORT: '0', SHARDCACHE_TEST_DELAY_GET: 'held::200' });
  await redis.client.mset('held:a', 'A', 'held:b', 'B');
  const chunks: { at: number; text: string }[] = [];
  const socket = net.connect({ port: slow.respPort!, host: '127.0.0.1' });
  t.teardown(() => socket.destroy());
  await new Promise((resolve) => socket.once('connect', resolve));
  const sent = performance.now();
  socket.on('data', (chunk: Buffer) => chunks.push({ at: performance.now() - sent, text: chunk.toString('latin1') }));
  socket.write('MGET held:a held:b\r\nPING\r\nGET held:a\r\n');
  const expected = '*2\r\n$1\r\nA\r\n$1\r\nB\r\n+PONG\r\n$1\r\nA\r\n';
  while (chunks.map((c) => c.text).join('').length < expected.length) await sleep(20);
  t.equal(chunks.map((c) => c.text).join(''), expected, 'every reply, in order');
  t.ok(chunks[0]!.at >= 150, `nothing arrived before the held values (first bytes after ${chunks[0]!.at.toFixed(0)} ms)`);
  t.match(chunks[0]!.text, /^\*2\r\n\$1\r\nA\r\n/, 'the MGET header left with its first value');
});
