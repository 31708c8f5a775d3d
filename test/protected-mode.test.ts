/**
 * Protected mode (src/protected-mode.ts) and ADMIN_HOST: beyond loopback
 * only with ACCESS_FILE or PROTECTED_MODE=off (one warning line), checked
 * on the built proxy's start-up.
 */
import t from 'tap';
import net from 'node:net';
import { isLoopback, unprotected } from '../src/protected-mode.js';
import { writeAccessFile } from './helpers/access.js';
import { get } from './helpers/http.js';
import { runProxy, startProxy, startRedis } from './helpers/processes.js';

t.test('loopback addresses and names', async (t) => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1']) t.ok(isLoopback(h), h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.com', '::ffff:10.0.0.1', '127.example.com'])
    t.notOk(isLoopback(h), h);
});

t.test('which settings are open without ACCESS_FILE', async (t) => {
  const c = { host: '127.0.0.1', adminHost: '127.0.0.1', adminPort: 9464 as const, accessFile: '' };
  t.same(unprotected(c), []);
  t.same(unprotected({ ...c, host: '0.0.0.0', adminHost: '0.0.0.0' }), ['HOST=0.0.0.0', 'ADMIN_HOST=0.0.0.0']);
  t.same(unprotected({ ...c, adminHost: '::' }), ['ADMIN_HOST=::']);
  t.same(unprotected({ ...c, adminHost: '::', adminPort: 'off' }), [], 'no admin listener, nothing open there');
  t.same(unprotected({ ...c, host: '0.0.0.0', accessFile: '/a.json' }), [], 'credentials protect it');
});

t.test('the built proxy: exit 2 naming the settings, unless ACCESS_FILE or PROTECTED_MODE=off', async (t) => {
  const host = await runProxy({ HOST: '0.0.0.0', PORT: '0' });
  t.equal(host.code, 2);
  t.match(
    host.stderr,
    /bad setting: HOST=0\.0\.0\.0 and ADMIN_HOST=0\.0\.0\.0: listening beyond loopback needs ACCESS_FILE .*PROTECTED_MODE=off/,
  );
  const admin = await runProxy({ ADMIN_HOST: '::', PORT: '0' });
  t.equal(admin.code, 2);
  t.match(admin.stderr, /bad setting: ADMIN_HOST=::: listening beyond loopback/);
  t.notMatch(admin.stderr, /HOST=127/, 'only the open one is named');
  const flag = await runProxy({ PORT: '0' }, ['--host', '0.0.0.0', '--admin-port', 'off']);
  t.equal(flag.code, 2);
  t.match(flag.stderr, /HOST=0\.0\.0\.0: listening beyond loopback/);
});

t.test('PROTECTED_MODE=off starts with one warning line; ACCESS_FILE starts without; ADMIN_HOST binds the admin elsewhere', async (t) => {
  const redis = await startRedis(t);
  await redis.client.set('pm', 'v');
  const off = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', HOST: '0.0.0.0', ADMIN_HOST: '127.0.0.2', PROTECTED_MODE: 'off' });
  const warnings = off
    .logs()
    .split('\n')
    .filter((l) => /PROTECTED_MODE=off/.test(l));
  t.equal(warnings.length, 1, 'one warning line');
  t.match(warnings[0], /"level":40.*HOST=0\.0\.0\.0 without ACCESS_FILE: every client that reaches the proxy reads every key/);
  t.notMatch(warnings[0], /ADMIN_HOST/, 'the admin listener is on loopback');
  t.equal((await get(off.url.replace('0.0.0.0', '127.0.0.1'), '/pm')).body.toString(), 'v');
  t.match(off.admin, /^http:\/\/127\.0\.0\.2:\d+$/, 'the admin listener binds ADMIN_HOST');
  t.equal((await get(off.admin, '/healthz')).status, 200);
  const port = Number(new URL(off.admin).port);
  const refused = await new Promise<string>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
  t.equal(refused, 'ECONNREFUSED', 'and not HOST');

  const dir = t.testdir({});
  const ACCESS_FILE = writeAccessFile(dir, [{ name: 'web', token: 'tok', keys: [''] }]);
  const on = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', HOST: '0.0.0.0', ACCESS_FILE });
  t.notMatch(on.logs(), /PROTECTED_MODE/, 'no warning with credentials');
});
