/**
 * The shard's error outcomes in-process, against a real redis-server started
 * for this file: WRONGTYPE, STALE_IF_ERROR, how errors are classified, and
 * Redis going down and coming back. The rest of the shard: shard.test.ts.
 */
import t from 'tap';
import { BatchReader } from '../src/hop/wire.js';
import { Outcome } from '../src/hop/vocabulary.js';
import { Shard } from '../src/shard/shard.js';
import { outcomeOf } from '../src/shard/redis/redis.js';
import { batch, decode, linked, type Reply } from './helpers/batches.js';
import { startRedis } from './helpers/processes.js';
import { redisShards } from './helpers/shard-redis.js';
import { sleep } from './helpers/time.js';

const redis = await startRedis(t);
const { logs, makeShard } = await redisShards(t, redis.url);

t.test('a key of another type answers WRONGTYPE, uncached', async (t) => {
  await redis.client.del('list');
  await redis.client.rpush('list', 'x');
  const { shard, entries } = makeShard();
  shard.receive(batch([1, 'list']), 0);
  t.same(await entries(1), [[1, Outcome.WrongType]]);
  t.equal(shard.cache.size, 0);
});

t.test('STALE_IF_ERROR: an expired entry answers while Redis fails, with its age; dropped once Redis says it is gone', async (t) => {
  let now = 0;
  let answer: Buffer | Outcome = Buffer.from('v1');
  const replies: Reply[] = [];
  const ages: number[] = [];
  const shard = linked(
    new Shard({
      capacity: 10,
      cacheTtlMs: 100,
      staleIfErrorMs: 1000,
      now: () => now,
      fetch: () => Promise.resolve(answer),
    }),
    (b) => {
      replies.push(...decode(b));
      const r = new BatchReader();
      r.reset(b);
      while (r.next()) ages.push(r.ageMs);
    },
  );
  const ask = async (id: number): Promise<Reply> => {
    shard.receive(batch([id, 'k']), 0);
    while (replies.length < id) await sleep(2);
    return replies[id - 1]!;
  };
  t.same(await ask(1), [1, 2, 'v1']);
  now = 500;
  answer = Outcome.Unavailable;
  t.same(await ask(2), [2, 2, 'v1'], 'Redis down, past the TTL: the stale value');
  t.equal(ages[1], 500, 'with its true age');
  answer = Outcome.RedisError;
  t.same(await ask(3), [3, 2, 'v1'], 'a Redis error answers stale too');
  t.equal(shard.staleIfErrorServed, 2);
  now = 1100;
  t.same(await ask(4), [4, Outcome.RedisError], 'past TTL + grace: the error');
  answer = Buffer.from('v2');
  t.same(await ask(5), [5, 2, 'v2']);
  now = 1300;
  answer = Outcome.NotFound;
  t.same(await ask(6), [6, Outcome.NotFound], 'deleted in Redis: not served stale');
  answer = Outcome.Unavailable;
  t.same(await ask(7), [7, Outcome.Unavailable], 'and the stale entry is gone');
});

t.test('error classification', async (t) => {
  const reply = Object.assign(new Error('ERR something'), { name: 'ReplyError' });
  t.equal(outcomeOf(reply), Outcome.RedisError);
  t.equal(outcomeOf(Object.assign(new Error('WRONGTYPE Operation'), { name: 'ReplyError' })), Outcome.WrongType);
  t.equal(outcomeOf(new Error('Command timed out')), Outcome.Unavailable);
});

t.test('Redis down: misses answer Unavailable quickly, the shard recovers', async (t) => {
  await redis.client.set('survivor', 'ok');
  const { shard, entries } = makeShard();
  await redis.stop();
  const started = Date.now();
  shard.receive(batch([1, 'survivor']), 0);
  t.same(await entries(1), [[1, Outcome.Unavailable]]);
  t.ok(Date.now() - started < 1300, `answered in ${Date.now() - started} ms`);
  // The answer can come before the connection's close event (a write to a closing socket fails at once): give the log a moment.
  for (let i = 0; i < 100 && !/test: redis (connection lost|connection closed)/.test(logs.join('\n')); i++) await sleep(10);
  t.match(logs.join('\n'), /test: redis (connection lost|connection closed)/, 'the state change is logged once');
  await redis.restart();
  const deadline = Date.now() + 5000;
  let n = 1;
  for (;;) {
    shard.receive(batch([++n, 'survivor']), 0);
    const last = (await entries(n))[n - 1]!;
    if (last[1] === Outcome.NotFound) break; // a fresh redis-server has no data
    t.ok(Date.now() < deadline, 'reconnects within 5 s');
    if (Date.now() > deadline) break;
    await sleep(100);
  }
  t.match(logs.join('\n'), /test: redis reconnected/);
});
