/** Start-up of the built proxy: --help, bad settings, clean stop. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { SETTINGS } from '../src/config.js';
import { fileLimitWarning, openFileLimit } from '../src/file-limit.js';
import { get } from './helpers/http.js';
import { runProxy, startProxy, startRedis } from './helpers/processes.js';

t.test('--help lists every setting and exits 0', async (t) => {
  const { code, stdout } = await runProxy({}, ['--help']);
  t.equal(code, 0);
  for (const s of SETTINGS) t.match(stdout, s.env);
});

t.test('a bad value stops start-up with exit code 2 and names the variable and the value', async (t) => {
  for (const [env, value] of [
    ['SHARDS', 'lots'],
    ['PORT', '99999'],
    ['REDIS_URL', 'localhost'],
    ['CACHE_TTL_MS', '-1'],
    ['INVALIDATION', 'push'],
    ['EVICTION', 'lfu'],
  ]) {
    const { code, stderr } = await runProxy({ [env!]: value! });
    t.equal(code, 2, `${env}=${value}: exit 2`);
    t.match(stderr, `${env}="${value}"`, 'names the setting and the value');
    t.notMatch(stderr, /\n\s+at /, 'no stack trace');
  }
  const { code, stderr } = await runProxy({}, ['--shards', '0']);
  t.equal(code, 2);
  t.match(stderr, '--shards="0"');
});

t.test('two backing modes at once, or a sentinel list without its master name: exit 2 naming the settings', async (t) => {
  const both = await runProxy({ REDIS_CLUSTER_NODES: '127.0.0.1:7000', REDIS_SENTINELS: '127.0.0.1:26379', REDIS_SENTINEL_NAME: 'main' });
  t.equal(both.code, 2);
  t.match(both.stderr, /bad setting: REDIS_CLUSTER_NODES and REDIS_SENTINELS are both set/);
  const nameless = await runProxy({ REDIS_SENTINELS: '127.0.0.1:26379' });
  t.equal(nameless.code, 2);
  t.match(nameless.stderr, /REDIS_SENTINELS is set but REDIS_SENTINEL_NAME is not/);
  const bad = await runProxy({ REDIS_CLUSTER_NODES: '127.0.0.1' });
  t.equal(bad.code, 2);
  t.match(bad.stderr, 'REDIS_CLUSTER_NODES="127.0.0.1": "127.0.0.1" is not host:port');
  t.notMatch(both.stderr + nameless.stderr + bad.stderr, /\n\s+at /, 'no stack trace');
});

t.test('SIGTERM stops the proxy with exit code 0', async (t) => {
  const redis = await startRedis(t);
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2' });
  t.equal(await proxy.stop(), 0);
  t.match(proxy.logs(), /SIGTERM: stopping/);
});

t.test('an open-file limit below MAX_CONNECTIONS is said at start, as nginx says it', async (t) => {
  const redis = await startRedis(t);
  const low = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1' }, [], ['prlimit', '--nofile=1024:1024']);
  t.match(low.logs(), 'open-file limit 1024 is below the 10256 that MAX_CONNECTIONS=10000 on 1 listener needs');
  t.equal((await get(low.url, '/st:any')).status, 404, 'and it serves');
  const fits = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', MAX_CONNECTIONS: '500' }, [], ['prlimit', '--nofile=1024:1024']);
  t.notMatch(fits.logs(), 'open-file limit', 'MAX_CONNECTIONS=500 fits in 1024: nothing said');
  t.same(
    [fileLimitWarning(undefined, 10, 1), fileLimitWarning(Number.POSITIVE_INFINITY, 10, 2)],
    [undefined, undefined],
    'an unknown or unlimited limit: nothing said',
  );
  t.match(fileLimitWarning(20000, 10000, 2), 'below the 20256 that MAX_CONNECTIONS=10000 on 2 listeners needs', 'RESP doubles the need');
  t.equal(openFileLimit('/nonexistent'), undefined, 'no /proc: unknown');
  const dir = mkdtempSync(join(tmpdir(), 'limits-'));
  t.teardown(() => rmSync(dir, { recursive: true }));
  writeFileSync(
    join(dir, 'unlimited'),
    'Limit                     Soft Limit           Hard Limit           Units\nMax open files            unlimited            unlimited            files\n',
  );
  writeFileSync(join(dir, 'none'), 'Limit                     Soft Limit           Hard Limit           Units\n');
  t.same(
    [openFileLimit(join(dir, 'unlimited')), openFileLimit(join(dir, 'none'))],
    [Number.POSITIVE_INFINITY, undefined],
    'unlimited; no such line',
  );
  t.ok(openFileLimit()! > 0, `this process: ${openFileLimit()}`);
});

t.test('a port already in use is a clear start-up failure', async (t) => {
  const redis = await startRedis(t);
  const first = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1' });
  const port = new URL(first.url).port;
  const { code, stderr } = await runProxy({ REDIS_URL: redis.url, SHARDS: '1', PORT: port });
  t.equal(code, 1);
  t.match(stderr, `cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
});

t.test('ADMIN_PORT=off starts no admin listener; the proxy serves as before', async (t) => {
  const redis = await startRedis(t);
  await redis.client.set('noadmin', 'v');
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', ADMIN_PORT: 'off' });
  t.equal((await get(proxy.url, '/noadmin')).body.toString(), 'v');
  t.notMatch(proxy.logs(), /admin listening/, 'no admin line in the log');
  t.equal(proxy.admin, '', 'no admin address');
  t.equal(await proxy.stop(), 0, 'and it still stops cleanly');
});
