/**
 * The TTL read of src/shard/redis/expiry-read.ts on a real Redis, through a
 * shard: a batch's values by MGET and their TTLs by one EVALSHA behind it (a
 * single key by one script), absent keys and keys of another type told
 * apart, the keys tracked once, lives that never reach past Redis's expiry,
 * the races between the MGET and the TTLs, and a failed command answered as
 * one outcome.
 */
import t from 'tap';
import { Outcome } from '../src/hop/vocabulary.js';
import { Shard } from '../src/shard/shard.js';
import { combine, redisFetchWithLife } from '../src/shard/redis/expiry-read.js';
import type { FetchWithLife } from '../src/shard/batch-fetch.js';
import { connectRedis, redisFetch } from '../src/shard/redis/redis.js';
import { batch, collector, linked } from './helpers/batches.js';
import { commandCalls } from './helpers/commandstats.js';
import { startRedis } from './helpers/processes.js';
import { sleep } from './helpers/time.js';

const redis = await startRedis(t);
const quiet = { info() {}, warn() {}, error() {} };
const connection = connectRedis({ url: redis.url, timeoutMs: 500, label: 'test', log: quiet });
t.teardown(() => connection.close());
await new Promise((resolve) => connection.redis.once('ready', resolve));
const fetchWithLife = redisFetchWithLife(connection.redis);

t.test('MGET and one TTL script per batch: values, TTLs, absent and wrong-type keys', async (t) => {
  await redis.client.set('er:ttl', 'a', 'PX', 5000);
  await redis.client.set('er:none', 'b');
  await redis.client.hset('er:hash', 'f', 'v');
  // The first call on a Redis that does not know a script costs a NOSCRIPT and an EVAL (see below).
  await fetchWithLife([Buffer.from('er:warm')]);
  await fetchWithLife([Buffer.from('er:warm'), Buffer.from('er:warm2')]);
  await redis.client.config('RESETSTAT');
  const got = await fetchWithLife(['er:ttl', 'er:none', 'er:absent', 'er:hash'].map((k) => Buffer.from(k)));
  if (typeof got === 'number') throw new Error(`outcome ${got}`);
  t.same(
    got.values.map((v) => (typeof v === 'number' ? v : v.toString())),
    ['a', 'b', Outcome.NotFound, Outcome.WrongType],
  );
  t.ok(got.lives[0]! > 4900 && got.lives[0]! <= 5000, `PTTL ${got.lives[0]} of 5000`);
  t.same(got.lives.slice(1), [-1, -1, -1], 'no TTL, absent, other type: no life');
  // The batch: one MGET and one TTL script (4 PTTLs); the hash's nil, whose
  // key exists, read once more by the one-key script (its own MGET and PTTL).
  t.same(
    [
      await commandCalls(redis.client, 'evalsha', 'eval'),
      await commandCalls(redis.client, 'mget'),
      await commandCalls(redis.client, 'pttl'),
      await commandCalls(redis.client, 'get'),
    ],
    [2, 2, 5, 0],
    'MGET + TTL script for the batch, one script more for the key of another type',
  );
  await redis.client.config('RESETSTAT');
  await fetchWithLife([Buffer.from('er:ttl'), Buffer.from('er:none')]);
  t.same(
    [await commandCalls(redis.client, 'evalsha', 'eval'), await commandCalls(redis.client, 'mget')],
    [1, 1],
    'a batch of strings: one MGET, one script',
  );
});

t.test('the MGET tracks each key once, and a change to a value or a TTL is invalidated', async (t) => {
  const own = await startRedis(t);
  const c = connectRedis({ url: own.url, timeoutMs: 500, label: 'test', log: quiet });
  t.teardown(() => c.close());
  await new Promise((resolve) => c.redis.once('ready', resolve));
  const sink = own.client.duplicate({ protocol: 2 });
  t.teardown(() => sink.disconnect());
  const invalidated: string[] = [];
  sink.on('messageBuffer', (_channel: Buffer, keys: Buffer[] | null) => invalidated.push(...(keys ?? []).map(String)));
  const sinkId = String(await sink.client('ID'));
  await sink.subscribe('__redis__:invalidate');
  await c.redis.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', sinkId);
  const keys = Array.from({ length: 32 }, (_, i) => `tr:${i}`);
  await own.client.mset(...keys.flatMap((k) => [k, 'v']));
  const read = redisFetchWithLife(c.redis);
  const got = await read(keys.map((k) => Buffer.from(k)));
  if (typeof got === 'number') throw new Error(`outcome ${got}`);
  t.equal(got.values.filter((v) => Buffer.isBuffer(v)).length, 32);
  const info = await own.client.info('stats');
  t.equal(Number(/tracking_total_keys:(\d+)/.exec(info)?.[1]), 32, 'the tracking table holds the 32 keys read');
  await own.client.pexpire('tr:0', 100000);
  await own.client.set('tr:1', 'w');
  await own.client.persist('tr:2'); // no TTL: not a change, no invalidation
  for (let i = 0; i < 100 && invalidated.length < 2; i++) await sleep(10);
  t.same(invalidated.sort(), ['tr:0', 'tr:1'], 'PEXPIRE and SET of keys read by the batch were invalidated');
});

t.test('between the MGET and the TTLs: a key gone, a key created or of another type', async (t) => {
  const value = Buffer.from('v');
  const keys = ['a', 'b', 'c', 'd'].map((k) => Buffer.from(k));
  const asked: string[] = [];
  const again: FetchWithLife = async (k) => {
    asked.push(k[0]!.toString());
    return k[0]!.toString() === 'c' ? { values: [Buffer.from('new')], lives: [900] } : Outcome.Unavailable;
  };
  const got = await combine([value, value, null, null], [5000, -2, -1, 3000], keys, again);
  t.same(asked, ['c', 'd'], 'only the nils whose key exists are read again');
  t.same(got.values[0], value);
  t.equal(got.lives[0], 5000);
  t.same(got.values[1], value, 'read, then gone before its PTTL: its readers get it…');
  t.equal(got.lives[1], 0, '…with no life left, so nothing keeps it');
  t.same([got.values[2]!.toString(), got.lives[2]], ['new', 900], 'created in between: the second read answers');
  t.same([got.values[3], got.lives[3]], [Outcome.Unavailable, -1], "a failed second read is that key's outcome");
  const sure = combine([value, null], [-1, -2], keys.slice(0, 2), again);
  t.notOk(sure instanceof Promise, 'nothing unsure: answered at once');
});

t.test('a Redis that lost the script (SCRIPT FLUSH, a restart): EVAL once, then EVALSHA again', async (t) => {
  await redis.client.set('er:flushed', 'f', 'PX', 5000);
  await redis.client.script('FLUSH');
  await redis.client.config('RESETSTAT');
  for (let i = 0; i < 2; i++) {
    const got = await fetchWithLife([Buffer.from('er:flushed')]);
    if (typeof got === 'number') throw new Error(`outcome ${got}`);
    t.equal(got.values[0]!.toString(), 'f');
  }
  t.same(
    [await commandCalls(redis.client, 'eval'), await commandCalls(redis.client, 'evalsha')],
    [1, 2],
    'NOSCRIPT once, answered by EVAL; the next EVALSHA finds it',
  );
});

t.test('a shard with it: the entry expires with its key, in every path', async (t) => {
  const replies = collector();
  const shard = linked(new Shard({ capacity: 100, cacheTtlMs: 60000, fetch: redisFetch(connection.redis), fetchWithLife }), replies.send);
  await redis.client.set('er:s1', 'x', 'PX', 300);
  await redis.client.set('er:s2', 'y', 'PX', 300);
  shard.receive(batch([1, 'er:s1'], [2, 'er:s2']), 0);
  t.same(await replies.entries(2), [
    [1, 1, 'x'],
    [2, 1, 'y'],
  ]);
  shard.receive(batch([3, 'er:s1']), 0);
  t.same((await replies.entries(3))[2], [3, 1, 'x'], 'a hit within the life');
  t.ok(shard.cache.lifeMs(shard.cache.findKey('er:s1'), performance.now()) <= 300);
  await sleep(350);
  shard.receive(batch([4, 'er:s1']), 0);
  t.same((await replies.entries(4))[3], [4, Outcome.NotFound], 'expired: fetched again, and gone');
});

t.test('Redis gone: one outcome for the batch', async (t) => {
  const own = await startRedis(t);
  const c = connectRedis({ url: own.url, timeoutMs: 200, label: 'test', log: quiet });
  t.teardown(() => c.close());
  await new Promise((resolve) => c.redis.once('ready', resolve));
  const read = redisFetchWithLife(c.redis);
  await own.stop();
  t.equal(await read([Buffer.from('a'), Buffer.from('b')]), Outcome.Unavailable);
});
