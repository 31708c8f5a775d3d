/**
 * The resend gate and the shard's use of it, against a real redis-server:
 * reads caught by a dropped connection are answered once it is back; a
 * Redis that is really gone, or a deadline passed, fails at once.
 */
import { EventEmitter } from 'node:events';
import t from 'tap';
import { Outcome } from '../src/hop/vocabulary.js';
import { Stat } from '../src/metrics/shard-stats.js';
import { Shard } from '../src/shard/shard.js';
import type { ShardOptions } from '../src/shard/shard-options.js';
import { connectRedis, reconnectDelay, redisFetch, redisFetchMany } from '../src/shard/redis/redis.js';
import { redisFetchWithLife } from '../src/shard/redis/expiry-read.js';
import { ResendGate } from '../src/shard/redis/resend.js';
import { batch, collector, linked } from './helpers/batches.js';
import { startRedis } from './helpers/processes.js';

const redis = await startRedis(t);
const quiet = { info() {}, warn() {}, error() {} };
const now = (): number => performance.now();
const conn = connectRedis({ url: redis.url, timeoutMs: 1000, label: 'test', log: quiet });
t.teardown(() => conn.close());
await new Promise((resolve) => conn.redis.once('ready', resolve));

/** Kills the test connection's socket from the server side and waits until the client has seen it close. */
async function kill(): Promise<void> {
  const closed = new Promise((resolve) => conn.redis.once('close', resolve));
  await redis.client.client('KILL', 'ID', String(await conn.redis.client('ID')));
  await closed;
}

/** A shard reading over the test connection with `reads` (the MGET, or the read script with the TTLs), resending through a gate of 1 s. */
function resendingShard(reads: Pick<ShardOptions, 'fetchMany' | 'fetchWithLife'>) {
  const replies = collector();
  const gate = new ResendGate(conn.redis, 1000, now);
  const shard = linked(
    new Shard({ capacity: 10, cacheTtlMs: 60000, fetch: redisFetch(conn.redis), ...reads, resend: (s) => gate.wait(s) }),
    replies.send,
  );
  return { shard, replies };
}

t.test('reconnects: the first attempt at once, then 100 ms doubling to 1 s', async (t) => {
  t.same([1, 2, 3, 4, 5, 6, 9].map(reconnectDelay), [0, 200, 400, 800, 1000, 1000, 1000]);
});

t.test('a ready connection resends at once; a passed deadline never', async (t) => {
  const gate = new ResendGate(conn.redis, 500, now);
  t.equal(await gate.wait(now()), true);
  t.equal(await gate.wait(now() - 600), false, 'past REDIS_TIMEOUT_MS of the first send');
});

t.test('reads caught by a dropped connection are answered on the next one, and counted', async (t) => {
  await redis.client.mset('r:a', 'A', 'r:b', 'B', 'r:c', 'C');
  const { shard, replies } = resendingShard({ fetchMany: redisFetchMany(conn.redis) });
  await kill();
  // Sent while the connection is re-established: both fail at once (no offline queue), then wait here.
  shard.receive(batch([1, 'r:a'], [2, 'r:b']), 0);
  shard.receive(batch([3, 'r:c']), 0);
  t.same(
    await replies.entries(3),
    [
      [1, 1, 'A'],
      [2, 1, 'B'],
      [3, 1, 'C'],
    ],
    'the MGET and the GET answered after the reconnect',
  );
  t.equal(shard.stats[Stat.ReadsResent], 3, 'three keys resent');
});

t.test('the same through the read script that brings the TTLs', async (t) => {
  await redis.client.set('l:a', 'A', 'PX', 60000);
  const { shard, replies } = resendingShard({ fetchWithLife: redisFetchWithLife(conn.redis) });
  await kill();
  shard.receive(batch([1, 'l:a'], [2, 'l:none']), 0);
  t.same(
    await replies.entries(2),
    [
      [1, 1, 'A'],
      [2, Outcome.NotFound],
    ],
    'answered after the reconnect',
  );
  t.equal(shard.stats[Stat.ReadsResent], 2, 'both keys resent');
});

t.test('a resend that fails again is answered unavailable: once only', async (t) => {
  const replies = collector();
  let calls = 0;
  const failing = (): Promise<Outcome> => {
    calls++;
    return Promise.resolve(Outcome.Unavailable);
  };
  const shard = linked(
    new Shard({ capacity: 10, cacheTtlMs: 60000, fetch: failing, fetchMany: () => failing(), resend: () => Promise.resolve(true) }),
    replies.send,
  );
  shard.receive(batch([1, 'x:a'], [2, 'x:b']), 0);
  t.same(await replies.entries(2), [
    [1, Outcome.Unavailable],
    [2, Outcome.Unavailable],
  ]);
  t.equal(calls, 2, 'the MGET sent twice, no more');
  shard.receive(batch([3, 'x:c']), 0);
  t.same(await replies.entries(3), [
    [1, Outcome.Unavailable],
    [2, Outcome.Unavailable],
    [3, Outcome.Unavailable],
  ]);
  t.equal(calls, 4, 'the GET sent twice, no more');
});

t.test('Redis really gone: waiting reads fail when an attempt to connect fails, later ones at once', async (t) => {
  const gate = new ResendGate(conn.redis, 5000, now);
  await redis.stop();
  try {
    const started = now();
    t.equal(await gate.wait(now()), false, 'the first failed attempt ends the wait');
    t.ok(now() - started < 1000, `long before the 5 s deadline (${(now() - started).toFixed(0)} ms)`);
    t.equal(await gate.wait(now()), false, 'while unreachable: at once');
  } finally {
    await redis.restart();
  }
  await new Promise((resolve) => conn.redis.once('ready', resolve));
  t.equal(await gate.wait(now()), true, 'ready again: resends resume');
});

t.test('a connection that stays away until the deadline, or closes for good', async (t) => {
  const stub = Object.assign(new EventEmitter(), { status: 'reconnecting' });
  const gate = new ResendGate(stub, 50, now);
  const started = now();
  t.equal(await gate.wait(now()), false, 'the deadline ends the wait');
  t.ok(now() - started >= 45, 'not before it');
  const waiting = gate.wait(now());
  stub.status = 'end';
  stub.emit('end');
  t.equal(await waiting, false, 'closed for good');
  t.equal(await gate.wait(now()), false, 'and at once after');
  stub.emit('error', new Error('reset'));
  t.pass('an error on an open connection decides nothing');
});
