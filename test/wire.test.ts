import t from 'tap';
import { MessageChannel } from 'node:worker_threads';
import { ETAG_BYTES, etagOf } from '../src/cache/etag.js';
import { isReturned, markReturned, RETURN_MIN_BYTES } from '../src/hop/buffer-pool.js';
import { BatchReader, BatchWriter } from '../src/hop/wire.js';
import { Outcome, Protocol, RESP3_FLAG } from '../src/hop/vocabulary.js';

function readAll(batch: ArrayBuffer): [number, number, string | undefined][] {
  return readMeta(batch).map(([id, code, payload]) => [id, code, payload]);
}

/** Every entry with its age and ETag: [id, code, payload, ageMs, etag]. */
function readMeta(batch: ArrayBuffer): [number, number, string | undefined, number, string | undefined][] {
  const r = new BatchReader();
  r.reset(batch);
  const out: [number, number, string | undefined, number, string | undefined][] = [];
  while (r.next()) {
    const payload = r.code >= 0 ? r.buffer.latin1Slice(r.offset, r.offset + r.code) : undefined;
    out.push([
      r.id,
      r.code,
      payload,
      r.ageMs,
      r.etagOffset < 0 ? undefined : r.buffer.latin1Slice(r.etagOffset, r.etagOffset + ETAG_BYTES),
    ]);
  }
  return out;
}

t.test('keys, values and outcomes round-trip in order', async (t) => {
  const w = new BatchWriter();
  w.addKey(7, 'k\u00ff', Protocol.Http);
  w.addOutcome(3, Outcome.NotFound);
  w.addValue(9, Buffer.from([0, 1, 2]), 0, undefined);
  w.addValue(1, Buffer.alloc(0), 0, undefined);
  t.equal(w.length, 4);
  t.equal(w.bytes, 4 + 4 * 12 + 4 + 4, 'entries plus payloads, each padded to 4 bytes, nothing more');
  const batch = w.finish();
  t.ok(batch.byteLength >= 4 + 4 * 12 + 4 + 4, 'the buffer is not trimmed: the reader stops at the count');
  t.same(readAll(batch), [
    [7, 2, 'k\u00ff'],
    [3, Outcome.NotFound, undefined],
    [9, 3, '\u0000\u0001\u0002'],
    [1, 0, ''],
  ]);
  t.equal(w.length, 0, 'finish starts a new batch');
});

t.test('grows past its initial size and clears', async (t) => {
  const w = new BatchWriter();
  for (let i = 0; i < 1000; i++) w.addKey(i, `key${i}`, Protocol.Http);
  const entries = readAll(w.finish());
  t.equal(entries.length, 1000);
  t.same(entries[999], [999, 6, 'key999']);
  w.addKey(1, 'x', Protocol.Http);
  w.clear();
  w.addKey(2, 'y', Protocol.Http);
  t.same(readAll(w.finish()), [[2, 1, 'y']]);
});

t.test('the packed buffer is transferable on its own', async (t) => {
  const w = new BatchWriter();
  w.addValue(1, Buffer.from('v'), 0, undefined);
  const batch = w.finish();
  const { port1, port2 } = new MessageChannel();
  const got = new Promise<ArrayBuffer>((resolve) => port2.once('message', resolve));
  port1.postMessage(batch, [batch]);
  t.equal(batch.byteLength, 0, 'detached after transfer');
  t.same(readAll(await got), [[1, 1, 'v']]);
  port1.close();
});

t.test('values carry their age and, when cached, their ETag ahead of the bytes', async (t) => {
  const w = new BatchWriter();
  const etag = etagOf(Buffer.from('cached'));
  w.addValue(1, Buffer.from('cached'), 1234, etag);
  w.addOutcome(2, Outcome.Overloaded);
  w.addValue(3, Buffer.from('fresh'), 0, undefined);
  w.addValue(4, Buffer.from('old'), 2 ** 40, etag);
  // Padded to 4: 18 + 6 → 24, 8 (for 5), 18 + 3 → 24.
  t.equal(w.bytes, 4 + 4 * 12 + 24 + 8 + 24, 'an ETag costs its 18 bytes only where present');
  const batch = w.finish();
  t.same(
    readMeta(batch),
    [
      [1, 6, 'cached', 1234, etag.toString('latin1')],
      [2, Outcome.Overloaded, undefined, 0, undefined],
      [3, 5, 'fresh', 0, undefined],
      [4, 3, 'old', 2 ** 29 - 1, etag.toString('latin1')],
    ],
    'ages past 2^29 - 1 ms are capped without touching the encoded, life and ETag bits',
  );
  w.addValue(5, Buffer.from('x'), 0, etag);
  w.clear();
  w.addValue(6, Buffer.from('y'), 7, undefined);
  t.same(readMeta(w.finish()), [[6, 1, 'y', 7, undefined]], 'clear drops ETags too');
});

t.test('a request carries the protocol it came in by, in meta, at no extra size', async (t) => {
  const w = new BatchWriter();
  w.addKey(1, 'h', Protocol.Http);
  w.addKey(2, 'r', Protocol.Resp);
  w.addKey(3, 'h2', Protocol.Http);
  t.equal(w.bytes, 4 + 3 * 12 + 3 * 4);
  const batch = w.finish();
  const r = new BatchReader();
  r.reset(batch);
  const got: [number, number, string][] = [];
  while (r.next()) got.push([r.id, r.protocol, r.buffer.latin1Slice(r.offset, r.offset + r.code)]);
  t.same(got, [
    [1, Protocol.Http, 'h'],
    [2, Protocol.Resp, 'r'],
    [3, Protocol.Http, 'h2'],
  ]);
});

t.test('a RESP3 request carries RESP3_FLAG in meta; its protocol still indexes by the low bit', async (t) => {
  const w = new BatchWriter();
  w.addKey(1, 'a', Protocol.Resp | RESP3_FLAG);
  w.addKey(2, 'b', Protocol.Resp);
  const r = new BatchReader();
  r.reset(w.finish());
  const got: [number, number, boolean][] = [];
  while (r.next()) got.push([r.id, r.protocol, (r.meta & RESP3_FLAG) !== 0]);
  t.same(got, [
    [1, Protocol.Resp, true],
    [2, Protocol.Resp, false],
  ]);
});

t.test('stored values are copied when added: a later change of their source does not reach the batch', async (t) => {
  const w = new BatchWriter();
  const arena = Buffer.from('..hello world..'.repeat(10), 'latin1');
  w.addStored(1, arena, 2, 11, 5, 0x01234567, -1);
  w.addStored(2, arena, 0, 150, 6, 0, 0);
  // What an eviction and a new set in the same turn would do to those bytes.
  arena.fill(0x21);
  const got = readMeta(w.finish());
  t.same(got[0], [1, 11, 'hello world', 5, '"01234567ffffffff"']);
  t.same(got[1], [2, 150, '..hello world..'.repeat(10), 6, '"0000000000000000"']);
});

t.test(
  'a batch larger than the buffer of the writer grows it, keeping what was written; the next batch starts at the last size',
  async (t) => {
    const w = new BatchWriter();
    const big = Buffer.alloc(100000, 0x61);
    w.addKey(1, 'k', Protocol.Http);
    w.addValue(2, big, 0, undefined);
    w.addValue(3, Buffer.from('z'), 0, undefined);
    const got = readAll(w.finish());
    t.same(
      got.map(([id, code]) => [id, code]),
      [
        [1, 1],
        [2, 100000],
        [3, 1],
      ],
    );
    t.equal(got[1]![2], 'a'.repeat(100000));
    w.addOutcome(4, Outcome.NotFound);
    t.same(readAll(w.finish()), [[4, Outcome.NotFound, undefined]]);
    t.same(readAll(w.finish()), [], 'an empty batch is a count of 0');
  },
);

t.test('a writer fills a buffer handed back before allocating another; a returned batch is marked as such', async (t) => {
  const w = new BatchWriter();
  const value = Buffer.alloc(RETURN_MIN_BYTES, 1);
  w.addValue(1, value, 0, undefined);
  const first = w.finish();
  t.notOk(isReturned(first), 'a batch with entries is not a returned one');
  markReturned(first);
  t.ok(isReturned(first));
  w.recycle(first);
  w.addValue(2, value, 0, undefined);
  const second = w.finish();
  t.equal(second, first, 'the same memory, filled again');
  const r = new BatchReader();
  r.reset(second);
  t.ok(r.next());
  t.equal(r.id, 2, 'holding the new batch');
  t.notOk(r.next());
  w.recycle(new ArrayBuffer(16));
  w.addValue(3, value, 0, undefined);
  t.not(w.finish().byteLength, 16, 'a buffer too small for the batch is passed over');
});

t.test('small batches do not draw on the pool, and let it go one buffer each', async (t) => {
  const w = new BatchWriter();
  const value = Buffer.alloc(RETURN_MIN_BYTES, 1);
  const small = Buffer.from('small');
  // Two small batches first, so the writer expects small ones.
  for (let i = 0; i < 2; i++) {
    w.addValue(i, small, 0, undefined);
    t.ok(w.finish().byteLength < RETURN_MIN_BYTES);
  }
  const large = new ArrayBuffer(4 * RETURN_MIN_BYTES);
  w.recycle(large);
  w.addValue(3, small, 0, undefined);
  t.not(w.finish(), large, 'a small batch is not sent in a pooled large buffer…');
  w.addValue(4, value, 0, undefined);
  t.not(w.finish(), large, '…and lets it go: the next large batch is in fresh memory');
});

t.test("a value's remaining life rides in one more word, only when its key has a TTL", async (t) => {
  const w = new BatchWriter();
  const etag = etagOf(Buffer.from('x'));
  w.addValue(1, Buffer.from('lived'), 5, etag, 1500);
  w.addValue(2, Buffer.from('none'), 5, undefined);
  w.addStored(3, Buffer.from('..stored'), 2, 6, 7, 0x01020304, 0x05060708, 2 ** 40);
  w.addStored(4, Buffer.from('plain'), 0, 5, 7, 1, 2);
  w.addValue(5, Buffer.from('zero'), 0, undefined, 0);
  const r = new BatchReader();
  r.reset(w.finish());
  const seen: [number, string, number, number, boolean][] = [];
  while (r.next()) seen.push([r.id, r.buffer.latin1Slice(r.offset, r.offset + r.code), r.ageMs, r.lifeMs, r.etagOffset >= 0]);
  t.same(seen, [
    [1, 'lived', 5, 1500, true],
    [2, 'none', 5, -1, false],
    [3, 'stored', 7, 2 ** 31 - 1, true],
    [4, 'plain', 7, -1, true],
    [5, 'zero', 0, 0, false],
  ]);
});
