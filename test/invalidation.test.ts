/**
 * The tracking link in-process, against a real redis-server started for
 * this file: a Shard over a real data connection, its Invalidation, and
 * changes made by another client.
 */
import t from 'tap';
import { BatchReader, BatchWriter } from '../src/hop/wire.js';
import { Outcome, Protocol } from '../src/hop/vocabulary.js';
import { Stat } from '../src/metrics/shard-stats.js';
import { Invalidation } from '../src/shard/invalidation/invalidation.js';
import { connectRedis, redisFetch } from '../src/shard/redis/redis.js';
import { Shard, type Fetch } from '../src/shard/shard.js';
import { MISS } from '../src/cache/store.js';
import { startRedis } from './helpers/processes.js';
import { linked } from './helpers/batches.js';
import { sleep } from './helpers/time.js';
import { commandCalls } from './helpers/commandstats.js';

type Reply = [id: number, code: number, value?: string];

const redis = await startRedis(t);

function batch(id: number, key: string): ArrayBuffer {
  const w = new BatchWriter();
  w.addKey(id, key, Protocol.Http);
  return w.finish();
}

/** Waits until `ok()` holds, failing after `ms`. */
/** The cached value of `key` in `shard` as a string, or undefined. */
function cachedValue(shard: Shard, key: string): string | undefined {
  const e = shard.cache.getKey(key, performance.now());
  return e === MISS ? undefined : shard.cache.value(e).toString('latin1');
}

async function until(ok: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(5);
  }
}

/**
 * A shard with tracking over its own connections. `gate(key)` holds the
 * reply of the next GET of `key`, after Redis has sent it, until the
 * returned `open` is called.
 */
async function tracked(t: { teardown(fn: () => unknown): void }, options: { url?: string; pingMs?: number; negativeTtlMs?: number } = {}) {
  const logs: string[] = [];
  const push = (line: string): void => {
    logs.push(line);
  };
  const log = { info: push, warn: push, error: push };
  const url = options.url ?? redis.url;
  const data = connectRedis({ url, timeoutMs: 500, label: 'test', log, ...(options.pingMs ? { pingMs: options.pingMs } : {}) });
  const real = redisFetch(data.redis);
  const gates = new Map<string, { replied: () => void; opened: Promise<void> }>();
  let gets = 0;
  const fetch: Fetch = (key) => {
    gets++;
    const gate = gates.get(key.toString('latin1'));
    if (gate === undefined) return real(key);
    gates.delete(key.toString('latin1'));
    return real(key).then(async (result) => {
      gate.replied();
      await gate.opened;
      return result;
    });
  };
  const replies: Reply[] = [];
  const reader = new BatchReader();
  const shard = linked(
    new Shard({
      capacity: 100,
      cacheTtlMs: 600000,
      negativeTtlMs: options.negativeTtlMs ?? 0,
      fetch,
    }),
    (b) => {
      reader.reset(b);
      while (reader.next())
        replies.push(
          reader.code >= 0
            ? [reader.id, reader.code, reader.buffer.latin1Slice(reader.offset, reader.offset + reader.code)]
            : [reader.id, reader.code],
        );
    },
  );
  const link = new Invalidation({
    url,
    timeoutMs: 500,
    data: data.redis,
    target: shard,
    label: 'test',
    log,
    ...(options.pingMs ? { pingMs: options.pingMs } : {}),
  });
  t.teardown(() => {
    link.close();
    data.close();
  });
  await until(() => link.settled, 'tracking settles');
  let nextId = 0;
  /** Reads `key` through the shard and resolves with its reply. */
  const read = async (key: string): Promise<Reply> => {
    const id = ++nextId;
    shard.receive(batch(id, key), 0);
    await until(() => replies.some((r) => r[0] === id), `reply to ${key}`);
    return replies.find((r) => r[0] === id)!;
  };
  const gate = (key: string): { replied: Promise<void>; open: () => void } => {
    let replied!: () => void;
    let open!: () => void;
    const repliedP = new Promise<void>((resolve) => (replied = resolve));
    const opened = new Promise<void>((resolve) => (open = resolve));
    gates.set(key, { replied, opened });
    return { replied: repliedP, open };
  };
  return { shard, link, data, read, gate, logs, gets: () => gets, replies };
}

/** The CLIENT LIST line of the connection named `name`. */
async function clientLine(name: string): Promise<string | undefined> {
  const list = (await redis.client.client('LIST')) as string;
  return list.split('\n').find((l) => l.includes(` name=${name} `));
}

t.test('a SET elsewhere removes the cached key; binary keys too; FLUSHALL clears the shard', async (t) => {
  const { shard, link, read } = await tracked(t);
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
  const { shard, link, read, gate, gets } = await tracked(t);
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

t.test('subscriber killed: the cache is flushed, nothing cached until tracking is re-armed toward the new subscriber', async (t) => {
  const { shard, link, read, logs } = await tracked(t);
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
  const { shard, link, read, data } = await tracked(t);
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
  const { shard, link, read, logs } = await tracked(t, { pingMs: 100 });
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
  const { shard, link, read, data, logs } = await tracked(t, { pingMs: 100 });
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
  const { link, data, logs } = await tracked(t, { pingMs: 50 });
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

t.test('negative answers are cached and invalidated by a later SET', async (t) => {
  const { shard, read, gets } = await tracked(t, { negativeTtlMs: 600000 });
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
  const { shard, link, read, logs } = await tracked(t, { url });
  t.equal(link.state, 'off');
  t.equal(link.stats[Stat.TrackingArmed], 0, 'not armed');
  t.equal(shard.caching, true, 'caches, bounded by the TTL');
  t.equal(logs.filter((l) => /refused client tracking/.test(l)).length, 1, 'said once');
  t.match(logs.join('\n'), /INVALIDATION=ttl/);
  await redis.client.set('nt', 'v');
  t.same(await read('nt'), [1, 1, 'v']);
  t.equal(shard.cache.size, 1);
});
