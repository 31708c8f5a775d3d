/**
 * The tracking link in-process, against a real redis-server started for
 * this file: a Shard over a real data connection, its Invalidation, and
 * changes made by another client: keys and flushes invalidated, the race
 * with a GET reply, negative answers, a server refusing tracking. Lost and
 * silent connections: invalidation-links.test.ts.
 */
import t from 'tap';
import { Outcome } from '../src/hop/vocabulary.js';
import { Stat } from '../src/metrics/shard-stats.js';
import type { Shard } from '../src/shard/shard.js';
import { MISS } from '../src/cache/store.js';
import { startRedis } from './helpers/processes.js';
import { tracked, until } from './helpers/tracked-shard.js';

const redis = await startRedis(t);

/** The cached value of `key` in `shard` as a string, or undefined. */
function cachedValue(shard: Shard, key: string): string | undefined {
  const e = shard.cache.getKey(key, performance.now());
  return e === MISS ? undefined : shard.cache.value(e).toString('latin1');
}

t.test('a SET elsewhere removes the cached key; binary keys too; FLUSHALL clears the shard', async (t) => {
  const { shard, link, read } = await tracked(t, redis.url);
  t.equal(link.state, 'armed');
  const binary = Buffer.from([0xff, 0x00, 0x0a, 0x41]).toString('latin1');
  await redis.client.set('inv:a', 'one');
  await redis.client.set(Buffer.from(binary, 'latin1'), 'bin');
  t.same(await read('inv:a'), [1, 3, 'one']);
  t.same(await read(binary), [2, 3, 'bin']);
  t.not(shard.cache.getKey('inv:a', performance.now()), MISS, 'cached');
  await redis.client.set('inv:a', 'two');
  await until(() => shard.cache.size === 1, 'the invalidation of inv:a');
  t.equal(cachedValue(shard, binary), 'bin', 'the other key stays');
  await redis.client.set(Buffer.from(binary, 'latin1'), 'BIN');
  await until(() => shard.cache.size === 0, 'the invalidation of the binary key');
  t.same(await read('inv:a'), [3, 3, 'two'], 'fetched again: the new value');
  t.same(await read(binary), [4, 3, 'BIN']);
  const before = link.messages;
  await redis.client.flushall();
  await until(() => link.messages > before, 'the FLUSHALL message');
  t.equal(shard.cache.size, 0, 'a null message clears the shard');
  t.same(await read('inv:a'), [5, Outcome.NotFound]);
  const s = link.stats;
  t.same(
    [s[Stat.InvalidatedKeys], s[Stat.InvalidationFlushes], s[Stat.TrackingRearms], s[Stat.TrackingArmed]],
    [2, 1, 0, 1],
    'counted: two keys, one flush, armed once',
  );
});

t.test('the race: an invalidation that overtakes the GET reply keeps that reply out of the cache', async (t) => {
  const { shard, link, read, gate, gets } = await tracked(t, redis.url);
  await redis.client.set('race:k', 'old');
  await redis.client.set('race:control', 'same');
  const held = gate('race:k');
  const answer = read('race:k');
  await held.replied; // Redis has answered "old" and now tracks race:k for this connection
  const before = link.messages;
  await redis.client.set('race:k', 'new');
  await until(() => link.messages > before, 'the invalidation, while the reply is held');
  held.open();
  t.same(await answer, [1, 3, 'old'], 'the waiting client still gets the answer it asked for');
  t.equal(shard.cache.getKey('race:k', performance.now()), MISS, 'but it is not cached');
  t.same(await read('race:k'), [2, 3, 'new'], 'the next read fetches the new value');
  t.equal(gets(), 2);

  // The same sequence without a change in between does cache: the check above can fail.
  const control = gate('race:control');
  const controlAnswer = read('race:control');
  await control.replied;
  control.open();
  t.same(await controlAnswer, [3, 4, 'same']);
  t.equal(cachedValue(shard, 'race:control'), 'same', 'an unpoisoned reply is cached');
});

t.test('negative answers are cached and invalidated by a later SET', async (t) => {
  const { shard, read, gets } = await tracked(t, redis.url, { negativeTtlMs: 600000 });
  await redis.client.del('neg');
  t.same(await read('neg'), [1, Outcome.NotFound]);
  t.same(await read('neg'), [2, Outcome.NotFound]);
  t.equal(gets(), 1, 'the second 404 came from the cache');
  await redis.client.set('neg', '');
  await until(() => shard.cache.size === 0, 'the invalidation');
  t.same(await read('neg'), [3, 0, ''], 'an empty value is a value, not the absent marker');
  t.same(await read('neg'), [4, 0, '']);
  t.equal(gets(), 2);
});

t.test('a server that refuses CLIENT TRACKING: one log line, TTL-only caching', async (t) => {
  await redis.client.call('ACL', 'SETUSER', 'notrack', 'on', '>pw', '~*', '&*', '+@all', '-client|tracking');
  const url = redis.url.replace('redis://', 'redis://notrack:pw@');
  const { shard, link, read, logs } = await tracked(t, url);
  t.equal(link.state, 'off');
  t.equal(link.stats[Stat.TrackingArmed], 0, 'not armed');
  t.equal(shard.caching, true, 'caches, bounded by the TTL');
  t.equal(logs.filter((l) => /refused client tracking/.test(l)).length, 1, 'said once');
  t.match(logs.join('\n'), /INVALIDATION=ttl/);
  await redis.client.set('nt', 'v');
  t.same(await read('nt'), [1, 1, 'v']);
  t.equal(shard.cache.size, 1);
});
