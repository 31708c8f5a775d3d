/**
 * A shard's typed reads in-process, with fetches the test answers by hand:
 * coalescing of a GET and typed commands on one flight, the string read's
 * WRONGTYPE handed to the typed read, poisoning, failures, negative caching,
 * values too large to cache, the HTTP JSON of a hit.
 */
import t from 'tap';
import { BatchWriter } from '../src/hop/wire.js';
import { Outcome, Protocol, RESP3_FLAG } from '../src/hop/vocabulary.js';
import { encodeTyped, Kind } from '../src/cache/typed-value.js';
import { Shard } from '../src/shard/shard.js';
import type { FetchWithLife, Lived } from '../src/shard/batch-fetch.js';
import { collector, linked } from './helpers/batches.js';

type Pending = { keys: string[]; resolve: (r: Lived | Outcome) => void };

/** A shard whose string and typed reads wait until the test answers them. */
function harness(options: { negativeTtlMs?: number; maxValueBytes?: number } = {}) {
  const strings: Pending[] = [];
  const typed: Pending[] = [];
  const held =
    (into: Pending[]): FetchWithLife =>
    (keys) =>
      new Promise((resolve) => into.push({ keys: keys.map((k) => k.latin1Slice(0, k.length)), resolve }));
  const { send, entries, batches } = collector();
  const shard = linked(
    new Shard({
      capacity: 100,
      cacheTtlMs: 60000,
      fetch: () => Promise.resolve(Outcome.RedisError),
      fetchWithLife: held(strings),
      fetchTyped: held(typed),
      ...options,
    }),
    send,
  );
  return { shard, strings, typed, entries, batches };
}

/** A request batch of GETs (`[id, key]`) and typed commands (`[id, key, args…]`, args[0] the name). */
function requests(meta: number, ...rows: [number, string, ...string[]][]): ArrayBuffer {
  const w = new BatchWriter();
  for (const [id, key, ...rest] of rows) {
    if (rest.length === 0) w.addKey(id, key, meta);
    else w.addCommand(id, key, meta, [rest[0]!, key, ...rest.slice(1)], rest.length + 1);
  }
  return w.finish();
}

const tagged = (kind: number, items: string[]): Buffer =>
  encodeTyped(
    kind as Kind,
    items.map((s) => Buffer.from(s, 'latin1')),
  );
const taggedString = (s: string): Buffer => Buffer.concat([Buffer.from([0]), Buffer.from(s, 'latin1')]);
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test('a GET and typed commands on one key share one flight; the string read says WRONGTYPE, the typed read answers all', async (t) => {
  const h = harness();
  h.shard.receive(requests(Protocol.Resp, [1, 'h'], [2, 'h', 'HGET', 'f'], [3, 'h', 'HLEN']), 0);
  t.same(
    h.strings.map((p) => p.keys),
    [['h']],
    'the GET started the flight: one string read',
  );
  t.equal(h.typed.length, 0);
  h.strings[0]!.resolve({ values: [Outcome.WrongType], lives: [-1] });
  await settle();
  t.same(
    h.typed.map((p) => p.keys),
    [['h']],
    'the same flight is read again by the typed script',
  );
  h.typed[0]!.resolve({ values: [tagged(Kind.Hash, ['f', 'v'])], lives: [5000] });
  t.same(await h.entries(3), [
    [1, Outcome.WrongType],
    [2, 7, '$1\r\nv\r\n'],
    [3, 4, ':1\r\n'],
  ]);
  h.shard.receive(requests(Protocol.Resp | RESP3_FLAG, [4, 'h', 'HGETALL'], [5, 'h']), 0);
  t.same((await h.entries(5)).slice(3), [
    [4, 18, '%1\r\n$1\r\nf\r\n$1\r\nv\r\n'],
    [5, Outcome.WrongType],
  ]);
  h.shard.receive(requests(Protocol.Http, [6, 'h']), 0);
  t.same((await h.entries(6))[5], [6, 9, '{"f":"v"}'], 'an HTTP GET hit of a hash: its JSON');
  t.equal(h.typed.length, 1, 'every later read came from the cache');
});

t.test('a typed command waiting on a string read is answered from the string', async (t) => {
  const h = harness();
  h.shard.receive(requests(Protocol.Resp, [1, 's'], [2, 's', 'STRLEN'], [3, 's', 'HGET', 'f']), 0);
  h.strings[0]!.resolve({ values: [Buffer.from('hello')], lives: [-1] });
  t.same(await h.entries(3), [
    [1, 5, 'hello'],
    [2, 4, ':5\r\n'],
    [3, 68, '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n'],
  ]);
});

t.test('typed misses: absent keys, failures, negative caching, poisoning, values too large to cache', async (t) => {
  const h = harness({ negativeTtlMs: 60000, maxValueBytes: 64 });
  h.shard.receive(requests(Protocol.Resp, [1, 'gone', 'EXISTS'], [2, 'gone'], [3, 'down', 'LLEN'], [4, 'down']), 0);
  h.typed[0]!.resolve({ values: [Outcome.NotFound, Outcome.Unavailable], lives: [-1, -1] });
  t.same(await h.entries(4), [
    [1, 4, ':0\r\n'],
    [2, Outcome.NotFound],
    [3, Outcome.Unavailable],
    [4, Outcome.Unavailable],
  ]);
  h.shard.receive(requests(Protocol.Resp, [5, 'gone', 'TYPE']), 0);
  t.same((await h.entries(5))[4], [5, 7, '+none\r\n'], 'the absence was cached (NEGATIVE_TTL_MS)');
  t.equal(h.typed.length, 1);

  // Invalidated while in flight: answered, not cached.
  h.shard.receive(requests(Protocol.Resp, [6, 'l', 'LLEN']), 0);
  h.shard.invalidate('l');
  h.typed[1]!.resolve({ values: [tagged(Kind.List, ['a'])], lives: [-1] });
  t.same((await h.entries(6))[5], [6, 4, ':1\r\n']);
  h.shard.receive(requests(Protocol.Resp, [7, 'l', 'LLEN']), 0);
  t.equal(h.typed.length, 3, 'the poisoned answer was not kept: read again');
  h.typed[2]!.resolve({ values: [tagged(Kind.List, ['a', 'b'])], lives: [-1] });
  t.same((await h.entries(7))[6], [7, 4, ':2\r\n']);

  // Over MAX_VALUE_BYTES: answered from the read, each time.
  const big = Array.from({ length: 20 }, (_, i) => `element-${i}`);
  for (const id of [8, 9]) {
    h.shard.receive(requests(Protocol.Resp, [id, 'big', 'LINDEX', '-1'], [id + 100, 'big']), 0);
    h.typed.at(-1)!.resolve({ values: [tagged(Kind.List, big)], lives: [-1] });
    const got = await h.entries(id === 8 ? 9 : 11);
    t.same(
      got.filter((e) => e[0] === id || e[0] === id + 100),
      [
        [id, 17, '$10\r\nelement-19\r\n'],
        [id + 100, Outcome.WrongType],
      ],
    );
  }
  t.equal(h.typed.length, 5, 'the large list was read twice: not cached');
  t.equal(h.shard.tooLarge, 2);
  // A string found by the typed read lands as a string.
  h.shard.receive(requests(Protocol.Resp, [10, 'str', 'GETRANGE', '0', '1'], [11, 'str']), 0);
  h.typed.at(-1)!.resolve({ values: [taggedString('hey')], lives: [-1] });
  const got = await h.entries(13);
  t.same(
    got.filter((e) => e[0] === 10 || e[0] === 11),
    [
      [10, 8, '$2\r\nhe\r\n'],
      [11, 3, 'hey'],
    ],
  );
});

t.test('the HTTP views: a field, a range, a string asked for its JSON, a stream, an uncached value', async (t) => {
  const h = harness({ maxValueBytes: 64 });
  const view = (id: number, key: string, ...args: string[]) => requests(Protocol.Http, [id, key, ...args]);
  h.shard.receive(view(1, 'h', 'HTTP.FIELD', 'f'), 0);
  h.typed[0]!.resolve({ values: [tagged(Kind.Hash, ['f', 'v'])], lives: [-1] });
  t.same(await h.entries(1), [[1, 1, 'v']]);
  h.shard.receive(view(2, 'h', 'HTTP.FIELD', 'nope'), 0);
  h.shard.receive(view(3, 'h', 'HTTP.RANGE', '0', '1'), 0);
  h.shard.receive(view(4, 'nokey', 'HTTP.JSON'), 0);
  h.typed[1]!.resolve({ values: [Outcome.NotFound], lives: [-1] });
  h.shard.receive(view(5, 's', 'HTTP.JSON'), 0);
  h.shard.receive(view(6, 's', 'HTTP.FIELD', 'f'), 0);
  h.typed[2]!.resolve({ values: [taggedString('raw')], lives: [-1] });
  h.shard.receive(view(7, 'x', 'HTTP.JSON'), 0);
  h.typed[3]!.resolve({ values: [tagged(Kind.Stream, [])], lives: [-1] });
  h.shard.receive(view(8, 'l', 'HTTP.RANGE', '-1', '-1'), 0);
  h.typed[4]!.resolve({
    values: [
      tagged(
        Kind.List,
        Array.from({ length: 20 }, (_, i) => `element-${i}`),
      ),
    ],
    lives: [-1],
  });
  t.same(await h.entries(8), [
    [1, 1, 'v'],
    [2, Outcome.NotFound],
    [3, Outcome.WrongType],
    [4, Outcome.NotFound],
    [5, 3, 'raw'],
    [6, Outcome.WrongType],
    [7, Outcome.WrongType],
    [8, 14, '["element-19"]'],
  ]);
});
