import t from 'tap';
import { randomBytes } from 'node:crypto';
import { hashKey, shardOf } from '../src/routing/hash.js';

t.test('stable: the same key always hashes the same', async (t) => {
  // Fixed values guard against an accidental change of the function, which
  // would move every key to another shard.
  t.same(['', 'a', 'user:42', '\u00ff\u0000'].map(hashKey), [0xab3e7c0b, 0x1a80b1b3, 0x23bf9c12, 0xd63edccf]);
  t.equal(shardOf('user:42', 1), 0);
  const k = randomBytes(16).toString('latin1');
  t.equal(shardOf(k, 7), shardOf(k, 7));
  t.ok(hashKey(k) >= 0 && hashKey(k) <= 0xffffffff);
});

t.test('100k random keys spread within ±10% over 4 shards', async (t) => {
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 100000; i++) counts[shardOf(randomBytes(1 + (i % 24)).toString('latin1'), 4)]!++;
  for (const c of counts) t.ok(Math.abs(c - 25000) <= 2500, `shard count ${c} within 10% of 25000`);
});

t.test('sequential keys spread too', async (t) => {
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 100000; i++) counts[shardOf(`key:${i}`, 4)]!++;
  for (const c of counts) t.ok(Math.abs(c - 25000) <= 2500, `shard count ${c} within 10% of 25000`);
});
