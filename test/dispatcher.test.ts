/**
 * The dispatcher in-process, wired over a real MessageChannel to a real
 * Shard reading a private redis-server: batching, routing of answers back to
 * their requests, and failing a shard's in-flight requests when it goes.
 */
import t from 'tap';
import { MessageChannel } from 'node:worker_threads';
import { Dispatcher, FLUSH_AT, handOffBound } from '../src/acceptor/dispatcher.js';
import type { Sink } from '../src/acceptor/sink.js';
import { isReturned, RETURN_MIN_BYTES } from '../src/hop/buffer-pool.js';
import { BatchReader, BatchWriter } from '../src/hop/wire.js';
import { Outcome, Protocol } from '../src/hop/vocabulary.js';
import { Shard } from '../src/shard/shard.js';
import { connectRedis, redisFetch, redisFetchMany } from '../src/shard/redis/redis.js';
import { startRedis } from './helpers/processes.js';
import { linked } from './helpers/batches.js';
import { sleep } from './helpers/time.js';

const redis = await startRedis(t);
const connection = connectRedis({ url: redis.url, timeoutMs: 1000, label: 'test', log: { info() {}, warn() {}, error() {} } });
t.teardown(() => connection.close());
await new Promise((resolve) => connection.redis.once('ready', resolve));

/** Collects answers by token. */
class Answers implements Sink {
  readonly protocol: Protocol;
  readonly got = new Map<unknown, [number, number, string | undefined]>();
  #waiter: (() => void) | undefined;
  constructor(protocol: Protocol = Protocol.Http) {
    this.protocol = protocol;
  }
  answer(token: unknown, flags: number, code: number, value: Buffer | undefined): void {
    this.got.set(token, [flags, code, value?.toString('latin1')]);
    this.#waiter?.();
  }
  async count(n: number): Promise<void> {
    while (this.got.size < n) await new Promise<void>((resolve) => (this.#waiter = resolve));
  }
  /** Tokens whose answer still holds its value (a slow socket); the others have let go. */
  readonly holding = new Set<unknown>();
  released(token: unknown): boolean {
    return !this.holding.has(token);
  }
}

/** A dispatcher over `shards` in-thread shards; `ports[i]` is shard i's far end. */
function wire(shards: number) {
  const dispatcher = new Dispatcher(shards);
  const far = [];
  const inThread: Shard[] = [];
  for (let i = 0; i < shards; i++) {
    const { port1, port2 } = new MessageChannel();
    const shard = linked(
      new Shard({ capacity: 100, cacheTtlMs: 60000, fetch: redisFetch(connection.redis), fetchMany: redisFetchMany(connection.redis) }),
      (b: ArrayBuffer) => port2.postMessage(b, [b]),
    );
    port2.on('message', (b: ArrayBuffer) => shard.receive(b, 0));
    dispatcher.attach(i, port1);
    far.push(port2);
    inThread.push(shard);
  }
  return { dispatcher, far, shards: inThread };
}

t.test('answers reach the request that asked, across shards, with their flags', async (t) => {
  await redis.client.mset('d:a', 'A', 'd:b', 'B');
  const { dispatcher, far } = wire(2);
  const sink = new Answers();
  dispatcher.submit(0, 'd:a', sink, 'first', 1);
  dispatcher.submit(1, 'd:b', sink, 'second', 0);
  dispatcher.submit(1, 'd:none', sink, 'third', 0);
  t.equal(dispatcher.inFlight, 3);
  await sink.count(3);
  t.same(sink.got.get('first'), [1, 1, 'A']);
  t.same(sink.got.get('second'), [0, 1, 'B']);
  t.same(sink.got.get('third'), [0, Outcome.NotFound, undefined]);
  t.equal(dispatcher.inFlight, 0);
  for (const p of far) p.close();
});

t.test("each request reaches the shard with its sink's protocol", async (t) => {
  await redis.client.set('d:proto', 'p');
  const { dispatcher, far, shards } = wire(1);
  const http = new Answers(Protocol.Http);
  const resp = new Answers(Protocol.Resp);
  dispatcher.submit(0, 'd:proto', http, 1, 0);
  await http.count(1);
  for (let i = 0; i < 3; i++) dispatcher.submit(0, 'd:proto', resp, i, 0);
  dispatcher.submit(0, 'd:proto:none', resp, 3, 0);
  await resp.count(4);
  t.same(
    [[...shards[0]!.misses], [...shards[0]!.hits]],
    [
      [1, 1],
      [0, 3],
    ],
    'HTTP: the miss; RESP: three hits and a miss',
  );
  for (const p of far) p.close();
});

t.test('more requests in flight than the initial table holds', async (t) => {
  const keys = Array.from({ length: 3000 }, (_, i) => `d:many:${i}`);
  await redis.client.mset(...keys.flatMap((k, i) => [k, String(i)]));
  const { dispatcher, far } = wire(1);
  const sink = new Answers();
  for (const [i, k] of keys.entries()) dispatcher.submit(0, k, sink, i, 0);
  t.equal(dispatcher.inFlight, 3000);
  await sink.count(3000);
  t.ok(
    keys.every((_, i) => sink.got.get(i)![2] === String(i)),
    'every answer matches its request',
  );
  for (const p of far) p.close();
});

t.test("detach answers the shard's in-flight requests and refuses new ones", async (t) => {
  await redis.client.set('d:slow', 'x');
  const { dispatcher, far } = wire(2);
  const sink = new Answers();
  const sleeper = redis.client.duplicate();
  t.teardown(() => sleeper.disconnect());
  const sleeping = sleeper.call('DEBUG', 'SLEEP', '0.2');
  await sleep(20);
  dispatcher.submit(0, 'd:slow', sink, 'in-flight', 0);
  dispatcher.submit(1, 'd:slow', sink, 'other-shard', 0);
  await new Promise((resolve) => setImmediate(resolve)); // let the batch go out
  dispatcher.submit(0, 'd:slow', sink, 'unsent', 0);
  dispatcher.detach(0, Outcome.ShardDown);
  t.same(sink.got.get('in-flight'), [0, Outcome.ShardDown, undefined], 'sent and unanswered: failed');
  t.same(sink.got.get('unsent'), [0, Outcome.ShardDown, undefined], 'batched but not sent: failed');
  dispatcher.submit(0, 'd:slow', sink, 'after', 0);
  t.same(sink.got.get('after'), [0, Outcome.ShardDown, undefined], 'a detached shard refuses at once');
  await sleeping;
  await sink.count(4);
  t.same(sink.got.get('other-shard'), [0, 1, 'x'], 'the other shard is unaffected');
  await sleep(50);
  t.same(sink.got.get('in-flight'), [0, Outcome.ShardDown, undefined], 'a late reply from the detached shard is not delivered');
  t.equal(dispatcher.inFlight, 0);
  for (const p of far) p.close();
});

t.test("hand-off bound: beyond it a shard's requests are refused at once, counted, and the rest served", async (t) => {
  t.equal(handOffBound(1000, 10000, 2), 21000, 'MAX_INFLIGHT plus MAX_CONNECTIONS per listener');
  t.equal(handOffBound(1000000, 2 ** 31 - 1, 2), 2 ** 31 - 1, 'capped to what the Int32 count holds');
  await redis.client.set('d:cap', 'c');
  const dispatcher = new Dispatcher(2, 2);
  const { port1, port2 } = new MessageChannel();
  const shard = linked(new Shard({ capacity: 10, cacheTtlMs: 60000, fetch: redisFetch(connection.redis) }), (b: ArrayBuffer) =>
    port2.postMessage(b, [b]),
  );
  port2.on('message', (b: ArrayBuffer) => shard.receive(b, 0));
  dispatcher.attach(0, port1);
  t.equal(dispatcher.attached(0), true);
  t.equal(dispatcher.attached(1), false, 'shard 1 never attached');
  const sink = new Answers();
  for (const token of ['a', 'b', 'c']) dispatcher.submit(0, 'd:cap', sink, token, 0);
  t.same(sink.got.get('c'), [0, Outcome.QueueFull, undefined], 'the third is refused before any reply');
  t.same([...dispatcher.inflightOf], [2, 0]);
  t.same([...dispatcher.shed], [1, 0]);
  await sink.count(3);
  t.same(sink.got.get('a'), [0, 1, 'c']);
  t.same([...dispatcher.inflightOf], [0, 0], 'in-flight count back to zero');
  dispatcher.submit(0, 'd:cap', sink, 'd', 0);
  await sink.count(4);
  t.same(sink.got.get('d'), [0, 1, 'c'], 'served again once under the limit');
  port2.close();
});

t.test('a cached value reaches the sink with its age and quoted ETag; a fresh miss with age 0', async (t) => {
  await redis.client.set('d:tag', 'tagged');
  let now = 1000;
  const dispatcher = new Dispatcher(1);
  const { port1, port2 } = new MessageChannel();
  const shard = linked(
    new Shard({ capacity: 10, cacheTtlMs: 60000, fetch: redisFetch(connection.redis), now: () => now }),
    (b: ArrayBuffer) => port2.postMessage(b, [b]),
  );
  port2.on('message', (b: ArrayBuffer) => shard.receive(b, 0));
  dispatcher.attach(0, port1);
  const got: [number, string | undefined][] = [];
  const sink: Sink = {
    protocol: Protocol.Http,
    answer: (_token, _flags, _code, _value, ageMs, etag) => got.push([ageMs, etag]),
    released: () => true,
  };
  dispatcher.submit(0, 'd:tag', sink, 1, 0);
  while (got.length < 1) await sleep(5);
  now = 3500;
  dispatcher.submit(0, 'd:tag', sink, 2, 0);
  while (got.length < 2) await sleep(5);
  t.match(got[0]![1], /^"[0-9a-f]{16}"$/, 'a quoted 64-bit tag');
  t.same(got[1], [2500, got[0]![1]], 'the hit: 2.5 s old, the same tag');
  t.equal(got[0]![0], 0, 'the miss: age 0');
  port2.close();
});

t.test(`a shard's batch is posted once it holds ${FLUSH_AT} requests, without waiting for the end of the turn`, async (t) => {
  const keys = Array.from({ length: FLUSH_AT + 1 }, (_, i) => `d:flush:${i}`);
  await redis.client.mset(...keys.flatMap((k, i) => [k, String(i)]));
  const { dispatcher, far } = wire(1);
  const batches: number[] = [];
  // The entries each batch holds (its first word): a buffer's length is its writer's capacity, not its content.
  far[0]!.on('message', (b: ArrayBuffer) => batches.push(new Int32Array(b, 0, 1)[0]!));
  const sink = new Answers();
  for (const [i, k] of keys.entries()) dispatcher.submit(0, k, sink, i, 0);
  await sink.count(keys.length);
  t.equal(batches.length, 2, `one batch of ${FLUSH_AT} posted at once, one of 1 at the end of the turn`);
  t.same(batches, [FLUSH_AT, 1], 'the first batch holds the many, the second the one left');
  t.ok(
    keys.every((_, i) => sink.got.get(i)![2] === String(i)),
    'every answer matches its request',
  );
  for (const p of far) p.close();
});

t.test('a large reply batch goes back to its shard once every answer from it has let go of its value', async (t) => {
  const dispatcher = new Dispatcher(1);
  const { port1, port2 } = new MessageChannel();
  t.teardown(() => port2.close());
  dispatcher.attach(0, port1);
  const big = Buffer.alloc(100 * 1024, 7);
  const back: ArrayBuffer[] = [];
  // The shard's end: answers every request batch with a 200 KiB reply batch, and keeps what comes back.
  port2.on('message', (b: ArrayBuffer) => {
    if (isReturned(b)) return back.push(b);
    const r = new BatchReader();
    r.reset(b);
    const w = new BatchWriter();
    while (r.next()) w.addValue(r.id, big, 0, undefined);
    const reply = w.finish();
    port2.postMessage(reply, [reply]);
  });
  const sink = new Answers();
  sink.holding.add('slow');
  dispatcher.submit(0, 'a', sink, 'fast', 0);
  dispatcher.submit(0, 'b', sink, 'slow', 0);
  await sink.count(2);
  t.equal(sink.got.get('fast')![1], big.length, 'the answers arrived');
  await sleep(5);
  t.equal(back.length, 0, 'not while one answer still holds its view');
  sink.holding.clear();
  await sleep(40);
  t.equal(back.length, 1, 'handed back once it let go (looked at again later)');
  t.ok(back[0]!.byteLength >= RETURN_MIN_BYTES, 'the whole buffer, to fill again');
  // A small batch stays with the garbage collector, as before.
  const small = new Answers();
  const w = new BatchWriter();
  w.addValue(1, Buffer.from('x'), 0, undefined);
  t.ok(w.finish().byteLength < RETURN_MIN_BYTES);
  const stuck = new Answers();
  stuck.holding.add('never');
  dispatcher.submit(0, 'c', stuck, 'never', 0);
  await stuck.count(1);
  await sleep(400);
  t.equal(back.length, 1, 'a batch still held after the last look (200 ms) is left to the garbage collector');
  void small;
});
