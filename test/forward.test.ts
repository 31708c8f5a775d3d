/**
 * Forwarding in-process (issue 22): the oversized-key markers (`Oversized`:
 * cap, expiry, forget), the replies written again (`writeForwarded`, RESP2
 * and RESP3), and a shard whose typed reads and forwarded commands the
 * test answers by hand: a value too large to cache is remembered and its
 * next commands forwarded, counted against MAX_INFLIGHT and released,
 * forgotten on invalidation and flush, never recorded from a poisoned
 * fetch, and a closed link's answer dropped.
 */
import t from 'tap';
import { encodeTyped, Kind } from '../src/cache/typed-value.js';
import { BatchWriter } from '../src/hop/wire.js';
import { Outcome, Protocol, RESP3_FLAG } from '../src/hop/vocabulary.js';
import { Stat } from '../src/metrics/shard-stats.js';
import type { FetchWithLife, Lived } from '../src/shard/batch-fetch.js';
import { Shape, shapeOf, writeForwarded } from '../src/shard/commands/forwarded-reply.js';
import { ReplyWriter } from '../src/shard/commands/reply-writer.js';
import { Oversized } from '../src/shard/oversized.js';
import { Shard } from '../src/shard/shard.js';
import { collector, linked } from './helpers/batches.js';

t.test('Oversized: at most cap keys, the oldest recorded dropped first; a key recorded again is the newest', (t) => {
  const o = new Oversized(60000, 3);
  for (const k of ['a', 'b', 'c']) o.remember(k, Kind.List, -1, 0);
  o.remember('a', Kind.List, -1, 0);
  o.remember('d', Kind.Hash, -1, 0);
  t.equal(o.size, 3);
  t.equal(o.kind('b', 1), -1, 'b, the oldest, was dropped');
  t.same(
    ['a', 'c', 'd'].map((k) => o.kind(k, 1)),
    [Kind.List, Kind.List, Kind.Hash],
  );
  t.end();
});

t.test("Oversized: a marker lives min(the key's life, the TTL), is dropped when met expired, and forgets", (t) => {
  const o = new Oversized(1000);
  o.remember('long', Kind.Set, 5000, 100);
  o.remember('short', 0, 200, 100);
  o.remember('forever', Kind.Zset, -1, 100);
  t.equal(o.lifeMs('long', 150), 4950, "the key's own life left");
  t.equal(o.lifeMs('forever', 150), -1, 'no TTL');
  t.equal(o.kind('short', 299), 0);
  t.equal(o.kind('short', 300), -1, 'gone with the key');
  t.equal(o.size, 2, 'and dropped when met');
  t.equal(o.kind('long', 1099), Kind.Set);
  t.equal(o.kind('long', 1100), -1, 'never past CACHE_TTL_MS');
  o.forget('forever');
  t.equal(o.kind('forever', 150), -1);
  o.remember('x', Kind.List, -1, 0);
  o.clear();
  t.equal(o.size, 0);
  t.end();
});

/** `reply` as `shape` for RESP2 and RESP3. */
function both(shape: Shape, reply: unknown): [string, string] {
  const out = new ReplyWriter();
  const one = (resp3: boolean): string => {
    writeForwarded(out.reset(resp3), shape, reply);
    return out.bytes.toString('latin1');
  };
  return [one(false), one(true)];
}

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

t.test('replies written again: the shapes Redis 7.0 gives each command in RESP3, RESP2 as it came', (t) => {
  t.equal(shapeOf('HGETALL', ['HGETALL'], 1), Shape.Map);
  t.equal(shapeOf('ZRANGE', ['ZRANGE', '0', '-1', 'withScores'], 4), Shape.Scored, 'WITHSCORES in any case');
  t.equal(shapeOf('ZRANGE', ['ZRANGE', 'withscores', '1'], 3), Shape.Generic, 'a bound is not the option');
  t.equal(shapeOf('ZRANGEBYSCORE', ['ZRANGEBYSCORE', '0', '1'], 3), Shape.Generic);
  t.same(
    ['SMEMBERS', 'ZSCORE', 'ZMSCORE', 'LRANGE'].map((name) => shapeOf(name, [name, '0', '1'], 3)),
    [Shape.Set, Shape.Double, Shape.Doubles, Shape.Generic],
  );
  t.same(both(Shape.Generic, 'OK'), ['$2\r\nOK\r\n', '$2\r\nOK\r\n'], 'a string ioredis decoded is written as a bulk string');
  t.same(both(Shape.Generic, [7, [b('x')]]), ['*2\r\n:7\r\n*1\r\n$1\r\nx\r\n', '*2\r\n:7\r\n*1\r\n$1\r\nx\r\n'], 'nested arrays');
  t.same(both(Shape.Map, [b('f'), b('v')]), ['*2\r\n$1\r\nf\r\n$1\r\nv\r\n', '%1\r\n$1\r\nf\r\n$1\r\nv\r\n']);
  t.same(both(Shape.Set, [b('a')]), ['*1\r\n$1\r\na\r\n', '~1\r\n$1\r\na\r\n']);
  t.same(both(Shape.Double, b('0.5')), ['$3\r\n0.5\r\n', ',0.5\r\n']);
  t.same(both(Shape.Double, null), ['$-1\r\n', '_\r\n']);
  t.same(both(Shape.Doubles, [b('inf'), null]), ['*2\r\n$3\r\ninf\r\n$-1\r\n', '*2\r\n,inf\r\n_\r\n']);
  const pairs = ['*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n', '*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n'];
  t.same(both(Shape.Scored, [b('a'), b('1'), b('b'), b('2')]), pairs, 'flat pairs (a RESP2 connection)');
  t.same(
    both(Shape.Scored, [
      [b('a'), b('1')],
      [b('b'), b('2')],
    ]),
    pairs,
    'nested pairs (a RESP3 connection)',
  );
  t.same(both(Shape.Generic, [b('x'), null, 3, [b('y')]]), [
    '*4\r\n$1\r\nx\r\n$-1\r\n:3\r\n*1\r\n$1\r\ny\r\n',
    '*4\r\n$1\r\nx\r\n_\r\n:3\r\n*1\r\n$1\r\ny\r\n',
  ]);
  t.end();
});

type Held<T> = { args: string[]; resolve: (r: T) => void; reject: (e: Error) => void };

/** A shard with MAX_VALUE_BYTES 32 and MAX_INFLIGHT 2 whose typed reads and forwarded commands wait until the test answers them. */
function harness() {
  const typed: Held<Lived | Outcome>[] = [];
  const forwarded: Held<unknown>[] = [];
  const fetchTyped: FetchWithLife = (keys) =>
    new Promise((resolve, reject) => typed.push({ args: keys.map((k) => k.latin1Slice(0, k.length)), resolve, reject }));
  const forward = (argv: Buffer[]): Promise<unknown> =>
    new Promise((resolve, reject) => forwarded.push({ args: argv.map((a) => a.latin1Slice(0, a.length)), resolve, reject }));
  const { send, entries } = collector();
  const shard = new Shard({
    capacity: 100,
    cacheTtlMs: 60000,
    maxValueBytes: 32,
    maxInflight: 2,
    fetch: () => Promise.resolve(Outcome.RedisError),
    fetchWithLife: () => Promise.resolve(Outcome.RedisError),
    fetchTyped,
    forward,
  });
  linked(shard, send);
  return { shard, typed, forwarded, entries };
}

function requests(meta: number, ...rows: [number, string, ...string[]][]): ArrayBuffer {
  const w = new BatchWriter();
  for (const [id, key, ...rest] of rows) w.addCommand(id, key, meta, [rest[0]!, key, ...rest.slice(1)], rest.length + 1);
  return w.finish();
}

const bigList = (): Lived => ({
  values: [
    encodeTyped(
      Kind.List,
      Array.from({ length: 10 }, (_, i) => b(`item-${i}`)),
    ),
  ],
  lives: [-1],
});
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test('a list too large to cache is read whole once, then each command is forwarded and counted', async (t) => {
  const h = harness();
  h.shard.receive(requests(Protocol.Resp, [1, 'l', 'LINDEX', '0']), 0);
  h.typed[0]!.resolve(bigList());
  t.same(await h.entries(1), [[1, 12, '$6\r\nitem-0\r\n']], 'answered from the whole read');
  const misses = h.shard.stats[Stat.TypedMisses + 2]!;
  h.shard.receive(
    requests(
      Protocol.Resp | RESP3_FLAG,
      [2, 'l', 'LINDEX', '5'],
      [3, 'l', 'LLEN'],
      [4, 'l', 'LRANGE', '0', '0'],
      [5, 'l', 'TYPE'],
      [6, 'l', 'EXISTS'],
    ),
    0,
  );
  t.equal(h.typed.length, 1, 'no second whole read');
  t.same(
    h.forwarded.map((f) => f.args),
    [
      ['LINDEX', 'l', '5'],
      ['LLEN', 'l'],
    ],
    'forwarded as sent',
  );
  t.equal(h.shard.limit.waiting, 2, 'each counts against MAX_INFLIGHT');
  t.equal(h.shard.limit.shed, 1, 'the third was refused');
  t.equal(h.shard.stats[Stat.TypedMisses + 2]! - misses, 2, 'two typed misses of the list family');
  h.forwarded[0]!.resolve(b('item-5'));
  h.forwarded[1]!.reject(Object.assign(new Error('ERR something'), { name: 'ReplyError' }));
  t.same((await h.entries(6)).slice(1), [
    [2, 12, '$6\r\nitem-5\r\n'],
    [3, 16, '-ERR something\r\n'],
    [4, Outcome.Overloaded],
    [5, 7, '+list\r\n'],
    [6, 4, ':1\r\n'],
  ]);
  t.equal(h.shard.limit.waiting, 0, 'released as the replies landed');
  t.equal(h.shard.tooLarge, 3, 'the whole read and the two forwarded');
});

t.test('a failure is the outcome every read answers; a closed link drops the answer', async (t) => {
  const h = harness();
  h.shard.receive(requests(Protocol.Resp, [1, 'l', 'LLEN']), 0);
  h.typed[0]!.resolve(bigList());
  await h.entries(1);
  h.shard.receive(requests(Protocol.Resp, [2, 'l', 'LLEN']), 0);
  h.forwarded[0]!.reject(new Error('Connection is closed.'));
  t.same((await h.entries(2))[1], [2, Outcome.Unavailable]);
  h.shard.receive(requests(Protocol.Resp, [3, 'l', 'LLEN']), 0);
  h.shard.unlink(0);
  h.forwarded[1]!.resolve(10);
  await settle();
  t.equal(h.shard.limit.waiting, 0, 'released all the same');
});

t.test('invalidation and flush forget markers; a poisoned read records none', async (t) => {
  const h = harness();
  h.shard.receive(requests(Protocol.Resp, [1, 'l', 'LLEN']), 0);
  h.typed[0]!.resolve(bigList());
  await h.entries(1);
  h.shard.invalidate('l');
  h.shard.receive(requests(Protocol.Resp, [2, 'l', 'LLEN']), 0);
  t.equal(h.typed.length, 2, 'read whole again after an invalidation');
  h.shard.invalidate('l');
  h.typed[1]!.resolve(bigList());
  await h.entries(2);
  h.shard.receive(requests(Protocol.Resp, [3, 'l', 'LLEN']), 0);
  t.equal(h.typed.length, 3, 'a read invalidated in flight left no marker');
  h.typed[2]!.resolve(bigList());
  await h.entries(3);
  h.shard.clear();
  h.shard.receive(requests(Protocol.Resp, [4, 'l', 'LLEN']), 0);
  t.equal(h.typed.length, 4, 'read whole again after a flush');
  t.equal(h.forwarded.length, 0, 'nothing was forwarded');
});

t.test('HTTP views of a big hash: ?field= forwarded as HGET, a range of a hash refused at once', async (t) => {
  const h = harness();
  h.shard.receive(requests(Protocol.Http, [1, 'h', 'HTTP.FIELD', 'f']), 0);
  h.typed[0]!.resolve({ values: [encodeTyped(Kind.Hash, [b('f'), b('v'.repeat(40))])], lives: [-1] });
  await h.entries(1);
  h.shard.receive(requests(Protocol.Http, [2, 'h', 'HTTP.FIELD', 'g'], [3, 'h', 'HTTP.RANGE', '0', '1']), 0);
  t.same(
    h.forwarded.map((f) => f.args),
    [['HGET', 'h', 'g']],
  );
  h.forwarded[0]!.resolve(null);
  t.same((await h.entries(3)).slice(1), [
    [2, Outcome.NotFound],
    [3, Outcome.WrongType],
  ]);
});
