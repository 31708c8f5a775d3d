import t from 'tap';
import { MessageChannel } from 'node:worker_threads';
import { BatchReader, BatchWriter, Outcome } from '../src/hop/wire.js';

function readAll(batch: ArrayBuffer): [number, number, string | undefined][] {
  const r = new BatchReader();
  r.reset(batch);
  const out: [number, number, string | undefined][] = [];
  while (r.next()) out.push([r.id, r.code, r.code >= 0 ? r.buffer.latin1Slice(r.offset, r.offset + r.code) : undefined]);
  return out;
}

t.test('keys, values and outcomes round-trip in order', async (t) => {
  const w = new BatchWriter();
  w.addKey(7, 'k\u00ff');
  w.addOutcome(3, Outcome.NotFound);
  w.addValue(9, Buffer.from([0, 1, 2]));
  w.addValue(1, Buffer.alloc(0));
  t.equal(w.length, 4);
  const batch = w.finish();
  t.equal(batch.byteLength, 4 + 4 * 8 + 2 + 3, 'header plus payload, nothing more');
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
  for (let i = 0; i < 1000; i++) w.addKey(i, `key${i}`);
  const entries = readAll(w.finish());
  t.equal(entries.length, 1000);
  t.same(entries[999], [999, 6, 'key999']);
  w.addKey(1, 'x');
  w.clear();
  w.addKey(2, 'y');
  t.same(readAll(w.finish()), [[2, 1, 'y']]);
});

t.test('the packed buffer is transferable on its own', async (t) => {
  const w = new BatchWriter();
  w.addValue(1, Buffer.from('v'));
  const batch = w.finish();
  const { port1, port2 } = new MessageChannel();
  const got = new Promise<ArrayBuffer>((resolve) => port2.once('message', resolve));
  port1.postMessage(batch, [batch]);
  t.equal(batch.byteLength, 0, 'detached after transfer');
  t.same(readAll(await got), [[1, 1, 'v']]);
  port1.close();
});
