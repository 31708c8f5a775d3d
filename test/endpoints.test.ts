/** Server lists, REDIS_URL's credentials and the per-mode connection options (src/shard/redis/endpoints.ts). */
import t from 'tap';
import { credentialsOf, hostPortOf, serverOptions } from '../src/shard/redis/endpoints.js';
import { describeBackend, formatHostPort, parseHostPorts, type BackendSettings } from '../src/routing/backend-settings.js';

t.test('host:port lists', async (t) => {
  t.same(parseHostPorts('a:1'), [{ host: 'a', port: 1 }]);
  t.same(parseHostPorts(' 10.0.0.1:7000 , redis-2.svc:7001,[::1]:7002'), [
    { host: '10.0.0.1', port: 7000 },
    { host: 'redis-2.svc', port: 7001 },
    { host: '::1', port: 7002 },
  ]);
  t.throws(() => parseHostPorts('a:1,'), /none empty/);
  t.throws(() => parseHostPorts('a'), /"a" is not host:port/);
  t.throws(() => parseHostPorts('::1:7000'), /write IPv6 as \[::1\]:7000/);
  t.throws(() => parseHostPorts('a:99999'), /"a:99999": the port must be from 1 to 65535/);
  t.throws(() => parseHostPorts('user@a:1'), /is not host:port/);
  t.equal(formatHostPort({ host: '::1', port: 7000 }), '[::1]:7000');
  t.equal(formatHostPort({ host: 'a', port: 1 }), 'a:1');
});

t.test("REDIS_URL's user, password, TLS and database; its host and port apart", async (t) => {
  t.same(credentialsOf('redis://h:1'), {});
  t.same(credentialsOf('rediss://app:p%40ss@h:1/2'), { username: 'app', password: 'p@ss', tls: {}, db: 2 });
  t.same(credentialsOf('redis://:secret@h'), { password: 'secret' });
  t.same(hostPortOf('redis://h:7000'), { host: 'h', port: 7000 });
  t.same(hostPortOf('redis://[::1]'), { host: '::1', port: 6379 });
});

const settings = (over: Partial<BackendSettings>): BackendSettings => ({
  mode: 'standalone',
  url: 'redis://h:1',
  nodes: [],
  sentinelName: '',
  timeoutMs: 250,
  ...over,
});

t.test('connection options per mode', async (t) => {
  t.same(serverOptions(settings({ url: 'redis://u:pw@h:7000/1' })), { username: 'u', password: 'pw', db: 1, host: 'h', port: 7000 });
  const sentinel = serverOptions(
    settings({ mode: 'sentinel', url: 'rediss://u:pw@ignored:1', nodes: [{ host: 's1', port: 26379 }], sentinelName: 'main' }),
  );
  t.match(sentinel, {
    sentinels: [{ host: 's1', port: 26379 }],
    name: 'main',
    failoverDetector: true,
    username: 'u',
    password: 'pw',
    sentinelUsername: 'u',
    sentinelPassword: 'pw',
    tls: {},
    enableTLSForSentinelMode: true,
    sentinelCommandTimeout: 250,
  });
  t.equal((sentinel as { host?: string }).host, undefined, "REDIS_URL's host is not used behind sentinels");
  t.notOk(
    'sentinelPassword' in serverOptions(settings({ mode: 'sentinel', nodes: [{ host: 's', port: 1 }], sentinelName: 'm' })),
    'no password, none sent to the sentinels',
  );
});

t.test('one log line per mode, never with the password', async (t) => {
  t.equal(describeBackend(settings({ url: 'redis://u:secret@h:1' })), 'redis redis://u:***@h:1');
  t.equal(
    describeBackend(
      settings({
        mode: 'cluster',
        url: 'rediss://u:secret@x:1',
        nodes: [
          { host: 'a', port: 1 },
          { host: '::1', port: 2 },
        ],
      }),
    ),
    'redis cluster a:1,[::1]:2 (user, password, TLS from REDIS_URL)',
  );
  t.equal(
    describeBackend(settings({ mode: 'sentinel', nodes: [{ host: 's', port: 26379 }], sentinelName: 'main' })),
    'redis sentinel master main via s:26379',
  );
});
