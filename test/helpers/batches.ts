/** Request batches in, reply batches out: the wire format of a shard, for in-process tests. */
import { BatchReader, BatchWriter } from '../../src/hop/wire.js';
import { Protocol } from '../../src/hop/vocabulary.js';
import type { Shard } from '../../src/shard/shard.js';

/** A reply entry: the request id, the code (a length, or an `Outcome`), and the value as latin1. */
export type Reply = [id: number, code: number, value?: string];

/** A request batch; requests come in by HTTP unless their third element says otherwise. */
export function batch(...keys: [number, string, Protocol?][]): ArrayBuffer {
  const w = new BatchWriter();
  for (const [id, key, protocol] of keys) w.addKey(id, key, protocol ?? Protocol.Http);
  return w.finish();
}

/** The entries of a reply batch. */
export function decode(ab: ArrayBuffer): Reply[] {
  const r = new BatchReader();
  r.reset(ab);
  const out: Reply[] = [];
  while (r.next()) out.push(r.code >= 0 ? [r.id, r.code, r.buffer.latin1Slice(r.offset, r.offset + r.code)] : [r.id, r.code]);
  return out;
}

/**
 * A shard's `send`: records every reply batch; `entries(n)` resolves once
 * `n` entries have arrived in all, with them sorted by id.
 */
export function collector() {
  const batches: Reply[][] = [];
  let waiting: (() => void) | undefined;
  const send = (b: ArrayBuffer): void => {
    batches.push(decode(b));
    waiting?.();
  };
  const entries = async (n: number): Promise<Reply[]> => {
    while (batches.flat().length < n) await new Promise<void>((resolve) => (waiting = resolve));
    return batches.flat().sort((a, b) => a[0] - b[0]);
  };
  return { batches, send, entries };
}

/** `shard` with one link open to `send`: link 0, which the tests' `receive(batch, 0)` reads by. */
export function linked(shard: Shard, send: (batch: ArrayBuffer) => void): Shard {
  shard.link(send);
  return shard;
}
