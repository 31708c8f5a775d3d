/**
 * TRACKING_MODE (src/shard/invalidation/tracking-mode.ts): the setting as the built proxy
 * reads it, and what each mode asks of a real redis-server, through
 * `openBackend` as a shard worker opens it: per-key tracking by default,
 * BCAST with KEY_PREFIX (or every key) with `bcast`, re-armed after a lost
 * subscriber, and the chosen mode on every master of a cluster.
 */
import t from 'tap';
import type { Redis } from 'ioredis';
import { Stat } from '../src/metrics/shard-stats.js';
import type { BackendSettings, TrackingSpec } from '../src/routing/backend-settings.js';
import { trackingOn } from '../src/shard/invalidation/tracking-mode.js';
import { shardOver, until } from './helpers/backend-shard.js';
import { startCluster } from './helpers/cluster.js';
import { runProxy, startRedis } from './helpers/processes.js';
import { sleep } from './helpers/time.js';

const redis = await startRedis(t);

/** A tracked shard over `settings`, once ready. */
async function readyShard(t: { teardown(fn: () => unknown): void }, settings: BackendSettings) {
  const over = shardOver(t, settings);
  if ((await over.backend.ready(5000)) !== 'ready') throw new Error(`not ready: ${over.lines.join('\n')}`);
  return { ...over, read: (...keys: string[]) => over.read(keys) };
}

const standalone = (tracking?: TrackingSpec): BackendSettings => ({
  mode: 'standalone',
  url: redis.url,
  nodes: [],
  sentinelName: '',
  timeoutMs: 500,
  ...(tracking ? { tracking } : {}),
});

/** `CLIENT LIST` lines of `server` whose name is `name`. */
async function clients(server: Redis, name: string): Promise<string[]> {
  return String(await server.client('LIST'))
    .split('\n')
    .filter((l) => l.includes(` name=${name} `));
}

t.test('the arguments: REDIRECT alone by default; BCAST, with PREFIX as raw bytes when KEY_PREFIX is set', async (t) => {
  t.same(trackingOn(undefined, 7), ['TRACKING', 'ON', 'REDIRECT', '7']);
  t.same(trackingOn({ mode: 'default', prefix: 'user:' }, 7), ['TRACKING', 'ON', 'REDIRECT', '7'], 'default mode ignores the prefix');
  t.same(trackingOn({ mode: 'bcast', prefix: '' }, 7), ['TRACKING', 'ON', 'REDIRECT', '7', 'BCAST']);
  t.same(trackingOn({ mode: 'bcast', prefix: 'u\u00ff:' }, 7), [
    'TRACKING',
    'ON',
    'REDIRECT',
    '7',
    'BCAST',
    'PREFIX',
    Buffer.from([0x75, 0xff, 0x3a]),
  ]);
});

t.test('the setting: shown in --help, a bad value or bcast without tracking exits 2 naming it', async (t) => {
  const help = await runProxy({}, ['--help']);
  t.match(help.stdout, /TRACKING_MODE\s+--tracking-mode\s+default default\s+default: .*; bcast: /);
  const bad = await runProxy({ TRACKING_MODE: 'broadcast', REDIS_URL: redis.url });
  t.equal(bad.code, 2);
  t.match(bad.stderr, /TRACKING_MODE="broadcast": must be one of default, bcast/);
  const flag = await runProxy({ REDIS_URL: redis.url }, ['--tracking-mode=off']);
  t.equal(flag.code, 2);
  t.match(flag.stderr, /--tracking-mode="off": must be one of default, bcast/);
  const ttl = await runProxy({ TRACKING_MODE: 'bcast', INVALIDATION: 'ttl', REDIS_URL: redis.url });
  t.equal(ttl.code, 2);
  t.match(ttl.stderr, /TRACKING_MODE=bcast: needs INVALIDATION=tracking/);
});

t.test('default: only keys read are reported', async (t) => {
  const { stats, read } = await readyShard(t, standalone({ mode: 'default', prefix: '' }));
  const [line] = await clients(redis.client, 'shardcache:shard-0');
  t.match(line, /flags=t /, 'tracking, not broadcast');
  await redis.client.set('dm:read', '1');
  t.same(await read('dm:read'), ['1']);
  await redis.client.set('dm:unread', '1');
  await redis.client.set('dm:read', '2');
  await until(() => stats[Stat.InvalidatedKeys] === 1, "the read key's invalidation");
  await sleep(100);
  t.equal(stats[Stat.InvalidatedKeys], 1, 'the unread key was not reported');
});

t.test('bcast with KEY_PREFIX: every write under the prefix is reported, read or not; others are not', async (t) => {
  const { shard, stats, read } = await readyShard(t, standalone({ mode: 'bcast', prefix: 'bc:' }));
  const [line] = await clients(redis.client, 'shardcache:shard-0');
  t.match(line, /flags=tB /, 'broadcast tracking');
  await redis.client.set('bc:a', 'one');
  // That SET's own broadcast, if it came during the read, would rightly keep the answer out of the cache.
  await until(() => stats[Stat.InvalidatedKeys] === 1, 'the broadcast of the SET');
  t.same(await read('bc:a'), ['one']);
  t.equal(shard.cache.size, 1);
  const seen = stats[Stat.InvalidatedKeys]!;
  await redis.client.set('other:x', '1');
  await redis.client.set('bc:never-read', '1');
  await until(() => stats[Stat.InvalidatedKeys] === seen + 1, 'the unread key under the prefix');
  await redis.client.set('bc:a', 'two');
  await until(() => shard.cache.size === 0, "the cached key's invalidation");
  t.same(await read('bc:a'), ['two']);
  await sleep(100);
  t.equal(stats[Stat.InvalidatedKeys], seen + 2, 'nothing outside the prefix');
});

t.test('bcast without a prefix covers every key; a lost subscriber re-arms (OFF, then ON: BCAST cannot be turned on twice)', async (t) => {
  const { shard, stats, lines, read } = await readyShard(t, standalone({ mode: 'bcast', prefix: '' }));
  const [sub] = await clients(redis.client, 'shardcache:shard-0:invalidate');
  await redis.client.set('any:k', 'v1');
  await until(() => stats[Stat.InvalidatedKeys]! >= 1, 'the broadcast of the SET');
  t.same(await read('any:k'), ['v1']);
  await redis.client.client('KILL', 'ID', /id=(\d+)/.exec(sub!)![1]!);
  await until(() => stats[Stat.TrackingRearms] === 1 && stats[Stat.TrackingArmed] === 1, 're-armed');
  t.notMatch(lines.join('\n'), /refused client tracking/, 'not refused on the second ON');
  const [fresh] = await clients(redis.client, 'shardcache:shard-0:invalidate');
  const [data] = await clients(redis.client, 'shardcache:shard-0');
  t.match(data, new RegExp(`flags=tB .*redir=${/id=(\d+)/.exec(fresh!)![1]} `), 'broadcast toward the new subscriber');
  t.same(await read('any:k'), ['v1']);
  await redis.client.set('any:k', 'v2');
  await until(() => shard.cache.size === 0, 'invalidations flow again');
  t.same(await read('any:k'), ['v2']);
});

t.test('cluster: bcast on every master', async (t) => {
  const cluster = await startCluster(t);
  const { stats, read } = await readyShard(t, {
    mode: 'cluster',
    url: 'redis://127.0.0.1:6379',
    nodes: [{ host: '127.0.0.1', port: cluster.nodes[0]!.port }],
    sentinelName: '',
    timeoutMs: 500,
    tracking: { mode: 'bcast', prefix: 'cb:' },
  });
  const masters = [];
  for (const node of cluster.nodes) if (/role:master/.test(await node.client.info('replication'))) masters.push(node);
  t.equal(masters.length, 3);
  for (const m of masters) t.match((await clients(m.client, 'shardcache:shard-0'))[0], /flags=tB /, `${m.address}: broadcast tracking`);
  // Keys on every master, none of them read: each master reports its own writes.
  const keys = Array.from({ length: 30 }, (_, i) => `cb:${i}`);
  for (const k of keys) await cluster.client.set(k, '1');
  await until(() => stats[Stat.InvalidatedKeys] === keys.length, 'every write reported', 8000);
  t.same(await read(keys[0]!), ['1']);
});
