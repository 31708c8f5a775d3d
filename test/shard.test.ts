/**
 * The shard's logic in-process, against a real redis-server started for
 * this file: batches in, replies out, coalescing, expiry, eviction, links,
 * reply batching. Error outcomes (WRONGTYPE, STALE_IF_ERROR, Redis down) are
 * in shard-errors.test.ts; how misses reach Redis (one MGET per batch) is in
 * batch-fetch.test.ts.
 */
import t from 'tap';
import { REPLY_FLUSH_BYTES, Shard } from '../src/shard/shard.js';
import { redisFetch } from '../src/shard/redis/redis.js';
import { Outcome, Protocol } from '../src/hop/vocabulary.js';
import { Stat } from '../src/metrics/shard-stats.js';
import { ENTRY_BYTES } from '../src/cache/store.js';
import { batch, decode, linked, type Reply } from './helpers/batches.js';
import { startRedis } from './helpers/processes.js';
import { redisShards } from './helpers/shard-redis.js';
import { sleep } from './helpers/time.js';

const redis = await startRedis(t);
const { connection, makeShard } = await redisShards(t, redis.url);

t.test('misses are fetched and coalesced, hits answer in the same turn', async (t) => {
  await redis.client.mset('a', 'A', 'b', 'B');
  await redis.client.del('absent');
  const { shard, replies, counter, entries } = makeShard();
  shard.receive(batch([1, 'a'], [2, 'a'], [3, 'b'], [4, 'absent']), 0);
  t.equal(replies.length, 0, 'nothing cached yet, nothing answered synchronously');
  shard.receive(batch([5, 'a']), 0);
  const got = await entries(5);
  t.same(
    got.sort((x, y) => x[0] - y[0]),
    [
      [1, 1, 'A'],
      [2, 1, 'A'],
      [3, 1, 'B'],
      [4, Outcome.NotFound],
      [5, 1, 'A'],
    ],
  );
  t.same(counter, { mgets: 1, mgetKeys: 3, gets: 1 }, 'each distinct key asked once, in one MGET; the nil confirmed by a GET');
  t.same([...shard.coalesced], [2, 0], 'two HTTP misses joined the fetch of a');
  t.ok(replies.length <= 2, `misses completing together share reply batches (${replies.length} batches)`);

  replies.length = 0;
  shard.receive(batch([6, 'a'], [7, 'b'], [8, 'absent']), 0);
  t.same(
    replies,
    [
      [
        [6, 1, 'A'],
        [7, 1, 'B'],
      ],
    ],
    'the hits come back before receive returns, in one batch',
  );
  t.same([...shard.hits], [2, 0]);
  await entries(3);
  t.same(replies[1], [[8, Outcome.NotFound]], 'the miss follows in its own batch');
});

t.test('hits, misses and coalesced misses are counted by the protocol each request came in by', async (t) => {
  await redis.client.mset('p:a', 'A', 'p:b', 'B');
  const { shard, entries } = makeShard();
  // HTTP starts the flight of p:a, two RESP requests join it; RESP starts p:b's, one HTTP request joins it.
  shard.receive(
    batch(
      [1, 'p:a', Protocol.Http],
      [2, 'p:a', Protocol.Resp],
      [3, 'p:b', Protocol.Resp],
      [4, 'p:a', Protocol.Resp],
      [5, 'p:b', Protocol.Http],
    ),
    0,
  );
  await entries(5);
  shard.receive(batch([6, 'p:a', Protocol.Resp], [7, 'p:b', Protocol.Resp], [8, 'p:b', Protocol.Http]), 0);
  await entries(8);
  t.same([...shard.misses], [2, 3], 'misses: HTTP 2, RESP 3');
  t.same([...shard.coalesced], [1, 2], 'coalesced: HTTP 1 (p:b), RESP 2 (p:a)');
  t.same([...shard.hits], [1, 2], 'hits: HTTP 1, RESP 2');
  const s = shard.stats;
  const slots = (first: number): number[] => [s[first + Protocol.Http]!, s[first + Protocol.Resp]!];
  t.same(
    [slots(Stat.Hits), slots(Stat.Misses), slots(Stat.Coalesced)],
    [
      [1, 2],
      [2, 3],
      [1, 2],
    ],
    'published per protocol',
  );
  t.equal(s[Stat.Expired], 0, 'the slots after the per-protocol counters are untouched');
});

t.test('20 concurrent misses of one key cost one GET', async (t) => {
  await redis.client.set('hot', 'value');
  const { shard, counter, entries } = makeShard();
  for (let i = 0; i < 20; i++) shard.receive(batch([i, 'hot']), 0);
  const got = await entries(20);
  t.equal(counter.gets, 1);
  t.ok(got.every(([, code, v]) => code === 5 && v === 'value'));
});

t.test('cached values are copied into the arena of the store, not kept as views of the socket buffer', async (t) => {
  await redis.client.set('copy', 'x'.repeat(100));
  const { shard, entries } = makeShard();
  shard.receive(batch([1, 'copy']), 0);
  await entries(1);
  const cached = shard.cache.value(shard.cache.getKey('copy', performance.now()));
  t.equal(cached.toString(), 'x'.repeat(100));
  t.ok(
    shard.cache.arena.bytes.some((page) => page?.buffer === cached.buffer),
    'the bytes lie in an arena page',
  );
});

t.test('an entry expires lazily after the ttl and is fetched again', async (t) => {
  let now = 0;
  await redis.client.set('ttl', 'old');
  const { shard, counter, entries } = makeShard({ cacheTtlMs: 100, now: () => now });
  shard.receive(batch([1, 'ttl']), 0);
  await entries(1);
  await redis.client.set('ttl', 'new');
  now = 99;
  shard.receive(batch([2, 'ttl']), 0);
  t.same((await entries(2))[1], [2, 3, 'old'], 'still cached before the ttl');
  now = 100;
  shard.receive(batch([3, 'ttl']), 0);
  t.same((await entries(3))[2], [3, 3, 'new'], 'fetched again at the ttl');
  t.equal(counter.gets, 2);
  t.equal(shard.cache.expired, 1);
});

t.test('capacity evicts the least recently read key', async (t) => {
  await redis.client.mset('k1', '1', 'k2', '2', 'k3', '3', 'k4', '4');
  const { shard, counter, entries } = makeShard({ capacity: 3 });
  shard.receive(batch([1, 'k1'], [2, 'k2'], [3, 'k3']), 0);
  await entries(3);
  shard.receive(batch([4, 'k1']), 0); // k2 is now the least recently read
  shard.receive(batch([5, 'k4']), 0);
  await entries(5);
  t.same(shard.cache.keys().sort(), ['k1', 'k3', 'k4']);
  t.equal(counter.gets + counter.mgetKeys, 4, 'each key fetched once');
});

t.test('binary keys and values', async (t) => {
  const key = Buffer.from([0, 0xff, 0x20, 0x0a]);
  const value = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  await redis.client.set(key, value);
  const { shard, entries } = makeShard();
  shard.receive(batch([1, key.toString('latin1')]), 0);
  const [[, code, v]] = (await entries(1)) as [Reply];
  t.equal(code, 256);
  t.same([...Buffer.from(v!, 'latin1')], [...value]);
});

t.test('MAX_VALUE_BYTES: a larger value is answered but not cached; the stats follow', async (t) => {
  await redis.client.mset('small', 'abc', 'large', 'x'.repeat(11));
  const replies: Reply[] = [];
  const shard = linked(new Shard({ capacity: 10, cacheTtlMs: 60000, maxValueBytes: 10, fetch: redisFetch(connection.redis) }), (b) =>
    replies.push(...decode(b)),
  );
  for (let round = 0; round < 2; round++) {
    shard.receive(batch([round * 2, 'small'], [round * 2 + 1, 'large']), 0);
    while (replies.length < round * 2 + 2) await sleep(5);
  }
  t.same(
    replies.slice(2).sort((a, b) => a[0] - b[0]),
    [
      [2, 3, 'abc'],
      [3, 11, 'x'.repeat(11)],
    ],
    'both served both times',
  );
  t.same(shard.cache.keys(), ['small'], 'only the small one cached');
  const s = shard.stats;
  // 'small' + 'abc': a 16-byte block, its metadata and the 16-slot index table.
  t.same(
    [s[Stat.Hits], s[Stat.Misses], s[Stat.TooLarge], s[Stat.Entries], s[Stat.Bytes], s[Stat.LatencyCount]],
    [1, 3, 2, 1, 16 + ENTRY_BYTES + 64, 3],
  );
  shard.clear();
  t.same([s[Stat.Entries], s[Stat.Bytes]], [0, 64], 'a flush shows in the gauges at once, not at the next batch');
  const next = linked(new Shard({ capacity: 10, cacheTtlMs: 60000, stats: s, fetch: redisFetch(connection.redis) }), () => {});
  next.receive(batch([9, 'x', Protocol.Resp]), 0);
  t.same(
    [
      next.stats[Stat.Hits],
      next.stats[Stat.Misses],
      next.stats[Stat.Misses + Protocol.Resp],
      next.stats[Stat.Entries],
      next.stats[Stat.Bytes],
    ],
    [1, 3, 1, 0, 64],
    'a replacement carries the counters on and starts empty (its bytes: the empty index table)',
  );
});

t.test('links: each acceptor gets its own answers; a miss shared by two links costs one fetch; a closed link is dropped', async (t) => {
  await redis.client.mset('l:a', 'A', 'l:b', 'B');
  let gets = 0;
  const one = redisFetch(connection.redis);
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const shard = new Shard({
    capacity: 10,
    cacheTtlMs: 60000,
    fetch: (key) => {
      gets++;
      return held.then(() => one(key));
    },
  });
  const got: Reply[][] = [[], [], []];
  const links = got.map((into) => shard.link((b) => into.push(...decode(b))));
  t.same(links, [0, 1, 2], 'links are numbered in order');
  // The same ids on three links: ids are each acceptor's own.
  for (const link of links) shard.receive(batch([7, 'l:a']), link);
  shard.unlink(2);
  release();
  while (got[0]!.length + got[1]!.length < 2) await sleep(5);
  await sleep(20);
  t.equal(gets, 1, 'one fetch for the three waiters');
  t.same(got[0], [[7, 1, 'A']], 'link 0 answered');
  t.same(got[1], [[7, 1, 'A']], 'link 1 answered');
  t.same(got[2], [], 'the closed link gets nothing');
  shard.receive(batch([8, 'l:a']), 1);
  t.same(got[1]!.at(-1), [8, 1, 'A'], 'a hit goes back over the link it came by');
  t.same(got[0]!.length, 1, 'and not over another');
  shard.receive(batch([9, 'l:a']), 2);
  t.equal(got[2]!.length, 0, 'a batch from a closed link is ignored');
});

t.test('answers landing in one turn keep their bytes when a later landing evicts their entry and reuses its memory', async (t) => {
  const replies: Reply[] = [];
  // Capacity 1: each landing evicts the one before it, whose arena block the next value then takes.
  const shard = linked(
    new Shard({
      capacity: 1,
      cacheTtlMs: 60000,
      fetch: (key) => Promise.resolve(Buffer.from(`value of ${key.toString()}`.padEnd(60, '.'))),
    }),
    (b) => replies.push(...decode(b)),
  );
  shard.receive(batch([1, 'turn:a'], [2, 'turn:b'], [3, 'turn:c']), 0);
  while (replies.length < 3) await sleep(5);
  t.same(
    replies.sort((a, b) => a[0] - b[0]).map(([, , v]) => v),
    ['turn:a', 'turn:b', 'turn:c'].map((k) => `value of ${k}`.padEnd(60, '.')),
  );
  t.same(shard.cache.keys(), ['turn:c']);
  t.equal(shard.cache.evicted, 2);
});

t.test('a reply batch leaves once it holds REPLY_FLUSH_BYTES, before the rest of the request batch is answered', async (t) => {
  const sent: Reply[][] = [];
  const big = Buffer.alloc(REPLY_FLUSH_BYTES / 2 + 1000, 0x62);
  const shard = linked(new Shard({ capacity: 10, cacheTtlMs: 60000, fetch: () => Promise.resolve(big) }), (b) => sent.push(decode(b)));
  shard.receive(batch([1, 'big:a'], [2, 'big:b'], [3, 'big:c']), 0);
  while (sent.flat().length < 3) await sleep(5);
  sent.length = 0;
  shard.receive(batch([4, 'big:a'], [5, 'big:b'], [6, 'big:c']), 0);
  t.same(
    sent.map((b) => b.map(([id, code]) => [id, code])),
    [
      [
        [4, big.length],
        [5, big.length],
      ],
      [[6, big.length]],
    ],
    'three hits: two in a first batch past the threshold, the third in a second',
  );
  t.ok(sent.flat().every(([, , v]) => v === big.toString('latin1')));
});
