/**
 * The tracking link in-process when its connections are lost or go silent,
 * against a real redis-server started for this file: the subscriber or the
 * data connection killed, either one silent (found by PING), and an idle
 * link that answers its PINGs left alone. Each loss flushes the shard and
 * re-arms tracking. The steady state: invalidation.test.ts.
 */
import t from 'tap';
import { Stat } from '../src/metrics/shard-stats.js';
import { startRedis } from './helpers/processes.js';
import { tracked, until } from './helpers/tracked-shard.js';
import { sleep } from './helpers/time.js';
import { commandCalls } from './helpers/commandstats.js';

const redis = await startRedis(t);

/** The CLIENT LIST line of the connection named `name`. */
async function clientLine(name: string): Promise<string | undefined> {
  const list = (await redis.client.client('LIST')) as string;
  return list.split('\n').find((l) => l.includes(` name=${name} `));
}

t.test('subscriber killed: the cache is flushed, nothing cached until tracking is re-armed toward the new subscriber', async (t) => {
  const { shard, link, read, logs } = await tracked(t, redis.url);
  await redis.client.set('kill:a', 'A');
  t.same(await read('kill:a'), [1, 1, 'A']);
  t.equal(shard.cache.size, 1);
  const name = link.subscriber.redis.options.connectionName!;
  const old = (await clientLine(name))!;
  const oldId = /id=(\d+)/.exec(old)![1];
  await redis.client.client('KILL', 'ID', oldId!);
  await until(() => shard.cache.size === 0, 'the flush');
  await until(() => link.arms === 2, 're-armed');
  const fresh = (await clientLine(name))!;
  const newId = /id=(\d+)/.exec(fresh)![1];
  t.not(newId, oldId, 'a new subscriber');
  const dataLine = (await clientLine(link.subscriber.redis.options.connectionName!.replace(/:invalidate$/, '')))!;
  t.match(dataLine, new RegExp(`redir=${newId} `), 'the data connection redirects to the new subscriber');
  t.match(dataLine, /flags=t/, 'and tracks');
  t.same(await read('kill:a'), [2, 1, 'A']);
  await redis.client.set('kill:a', 'B');
  await until(() => shard.cache.size === 0, 'invalidations flow again');
  t.same(await read('kill:a'), [3, 1, 'B']);
  t.match(logs.join('\n'), /test: invalidation tracking re-armed/);
  t.same(
    [link.stats[Stat.TrackingRearms], link.stats[Stat.TrackingArmed], link.stats[Stat.InvalidatedKeys]],
    [1, 1, 1],
    'one re-arm, armed, one key',
  );
});

t.test('data connection killed: flushed and re-armed too', async (t) => {
  const { shard, link, read, data } = await tracked(t, redis.url);
  await redis.client.set('dkill', 'x');
  t.same(await read('dkill'), [1, 1, 'x']);
  const line = (await clientLine(data.redis.options.connectionName!))!;
  await redis.client.client('KILL', 'ID', /id=(\d+)/.exec(line)![1]!);
  // The first reconnect attempt is immediate: the link is usually armed again before a poll could see it down.
  await until(() => link.arms === 2 && shard.caching, 're-armed');
  t.equal(shard.cache.size, 0, 'the cache was flushed');
  t.same(await read('dkill'), [2, 1, 'x']);
  await redis.client.set('dkill', 'y');
  await until(() => shard.cache.size === 0, 'invalidations flow again');
  t.equal(link.stats[Stat.TrackingRearms], 1, 'a lost data connection counts as a re-arm too');
});

t.test('a link that goes silent is found by PING, reconnected and re-armed', async (t) => {
  const { shard, link, read, logs } = await tracked(t, redis.url, { pingMs: 100 });
  await redis.client.set('silent', 'x');
  await read('silent');
  // Stop reading the subscriber's socket: PONGs and invalidations go unseen, as on a dead link.
  link.subscriber.redis.stream.pause();
  await until(() => shard.cache.size === 0, 'the flush after an unanswered PING');
  t.match(logs.join('\n'), /test invalidation: redis connection silent \(PING unanswered for 100 ms\); reconnecting/);
  await until(() => link.arms === 2, 're-armed');
  await read('silent');
  await redis.client.set('silent', 'y');
  await until(() => shard.cache.size === 0, 'invalidations flow again');
});

t.test('a data connection that goes silent is found by its own PING: reconnected, flushed, re-armed; the subscriber stays', async (t) => {
  const { shard, link, read, data, logs } = await tracked(t, redis.url, { pingMs: 100 });
  await redis.client.set('dsilent', 'x');
  t.same(await read('dsilent'), [1, 1, 'x']);
  t.equal(shard.cache.size, 1);
  const idOf = async (name: string): Promise<string | undefined> => /id=(\d+)/.exec((await clientLine(name)) ?? '')?.[1];
  const dataName = data.redis.options.connectionName!;
  const subName = link.subscriber.redis.options.connectionName!;
  const [dataId, subId] = [await idOf(dataName), await idOf(subName)];
  // Stop reading the data socket: its PONG goes unseen, as on a link that died without a FIN.
  data.redis.stream.pause();
  // The reconnect's first attempt is immediate: the link may be armed again before a poll sees it down.
  await until(() => link.arms === 2 && shard.caching, 're-armed');
  t.equal(shard.cache.size, 0, 'the cache was flushed');
  t.match(logs.join('\n'), /test: redis connection silent \(PING unanswered for 100 ms\); reconnecting/);
  t.notMatch(logs.join('\n'), /test invalidation: redis connection silent/, 'the subscriber was never silent');
  t.not(await idOf(dataName), dataId, 'a new data connection');
  t.equal(await idOf(subName), subId, 'the same subscriber');
  t.match((await clientLine(dataName))!, new RegExp(`flags=t .*redir=${subId} `), 'the new data connection tracks toward it');
  t.same(await read('dsilent'), [2, 1, 'x'], 'fetched again after the flush');
  await redis.client.set('dsilent', 'y');
  await until(() => shard.cache.size === 0, 'invalidations flow again');
  t.same(await read('dsilent'), [3, 1, 'y']);
  t.equal(link.stats[Stat.TrackingRearms], 1);
});

t.test('an idle connection that answers its PINGs is left alone', async (t) => {
  const { link, data, logs } = await tracked(t, redis.url, { pingMs: 50 });
  const pings = (): Promise<number> => commandCalls(redis.client, 'ping');
  const before = await pings();
  await sleep(400);
  t.equal(link.arms, 1, 'never re-armed');
  t.equal(data.redis.status, 'ready');
  t.notMatch(logs.join('\n'), /silent/);
  t.ok((await pings()) - before >= 4, 'PINGs were sent');
  for (const name of [data.redis.options.connectionName!, link.subscriber.redis.options.connectionName!])
    t.match(await clientLine(name), / cmd=ping /, `${name}: its last command was a PING`);
});
