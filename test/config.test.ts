import t from 'tap';
import { availableParallelism } from 'node:os';
import { backendSettings, ConfigError, flagOf, helpText, loadConfig, SETTINGS, type Config } from '../src/config.js';
import { defaultThreads } from '../src/threads.js';
import { makeCerts } from './helpers/certs.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeAccessFile } from './helpers/access.js';

const accessDir = mkdtempSync(join(tmpdir(), 'shardcache-config-'));
t.teardown(() => rmSync(accessDir, { recursive: true, force: true }));
const ACCESS = writeAccessFile(accessDir, [{ name: 'web', token: 't', keys: [''] }]);

const certs = await makeCerts(t);
const load = (env: Record<string, string>, argv: string[] = []): Config => loadConfig(env, argv) as Config;

/** Per setting: its default, a good value and what it parses to, bad values, and the settings it needs beside it (`with`). */
const cases: Record<string, { default: number | string; good: [string, number | string]; bad: string[]; with?: Record<string, string> }> = {
  PORT: { default: 8080, good: ['9000', 9000], bad: ['-1', '65536', 'http', '80.5'] },
  HOST: { default: '127.0.0.1', good: ['0.0.0.0', '0.0.0.0'], bad: ['a b', 'http://x'], with: { PROTECTED_MODE: 'off' } },
  ADMIN_HOST: { default: '127.0.0.1', good: ['::1', '::1'], bad: ['a b', 'http://x'] },
  PROTECTED_MODE: { default: 'on', good: ['OFF', 'off'], bad: ['no', '0', 'false'] },
  REDIS_URL: {
    default: 'redis://127.0.0.1:6379',
    good: ['rediss://user:secret@cache.internal:6380/2', 'rediss://user:secret@cache.internal:6380/2'],
    bad: ['localhost:6379', '::nope', 'http://h:1', 'redis://h/db', 'redis://'],
  },
  REDIS_CLUSTER_NODES: {
    default: '',
    good: [' 10.0.0.1:7000, redis-1:7001 ,[::1]:7002', '10.0.0.1:7000,redis-1:7001,[::1]:7002'],
    bad: ['10.0.0.1', 'a:1,,b:2', 'a:0', 'a:65536', 'redis://a:1', '::1:7000', 'a b:1'],
  },
  REDIS_SENTINELS: {
    default: '',
    good: ['s1:26379,s2:26379', 's1:26379,s2:26379'],
    bad: ['s1', 's1:26379,', 'x:y'],
    with: { REDIS_SENTINEL_NAME: 'mymaster' },
  },
  REDIS_SENTINEL_NAME: { default: '', good: ['mymaster', 'mymaster'], bad: ['my master'], with: { REDIS_SENTINELS: 's1:26379' } },
  CACHE_TTL_MS: { default: 30000, good: ['0', 0], bad: ['-5', '1e3', 'soon'] },
  CACHE_CAPACITY: { default: 100000, good: ['3', 3], bad: ['-1', 'many', '2147483648'] },
  SHARDS: { default: defaultThreads(availableParallelism(), true).shards, good: ['4', 4], bad: ['0', '257', 'two'] },
  ACCEPTORS: { default: defaultThreads(availableParallelism(), true).acceptors, good: ['3', 3], bad: ['0', '65', 'all'] },
  MAX_CONNECTIONS: { default: 10000, good: ['50', 50], bad: ['0', 'x'] },
  REDIS_TIMEOUT_MS: { default: 1000, good: ['250', 250], bad: ['0', '600001', 'fast'] },
  RESP_PORT: { default: 'off', good: ['6380', 6380], bad: ['-1', '65536', 'redis', 'on'] },
  RESP_PASSWORD: { default: '', good: ['s3cret pass', 's3cret pass'], bad: [] },
  MAX_KEY_BYTES: { default: 1024, good: ['16', 16], bad: ['0', '65537'] },
  ADMIN_PORT: { default: 9464, good: ['OFF', 'off'], bad: ['-1', '65536', 'admin', 'no'] },
  LOG_LEVEL: { default: 'info', good: ['DEBUG', 'debug'], bad: ['verbose', 'inf', '3'] },
  SHUTDOWN_TIMEOUT_MS: { default: 10000, good: ['2500', 2500], bad: ['0', '600001', 'later'] },
  MAX_INFLIGHT: { default: 1000, good: ['5', 5], bad: ['0', '1000001', 'lots'] },
  HEADERS_TIMEOUT_MS: { default: 10000, good: ['500', 500], bad: ['99', '40000', 'slow'] },
  REQUEST_TIMEOUT_MS: { default: 30000, good: ['60000', 60000], bad: ['99', '3600001', 'never'] },
  STALE_IF_ERROR_MS: { default: 0, good: ['60000', 60000], bad: ['-1', '2147483648', 'forever'] },
  MAX_VALUE_BYTES: { default: 1048576, good: ['64k', 65536], bad: ['-1', '536870913', '513m', '1.5m', '1x'] },
  CACHE_MAX_BYTES: { default: 0, good: ['256m', 268435456], bad: ['-1', '1.5g', '2x', 'lots', '1025t'] },
  KEY_PREFIX: { default: '', good: ['user%3A%00', 'user:\u0000'], bad: ['%zz', 'a%4', 'x?y', 'x#y'] },
  INVALIDATION: { default: 'tracking', good: ['TTL', 'ttl'], bad: ['none', 'push', '1'] },
  TRACKING_MODE: { default: 'default', good: ['BCAST', 'bcast'], bad: ['broadcast', 'on', '1'] },
  CONTENT_TYPES: {
    default: '',
    good: ['.json=application/json,.html=text/html; charset=utf-8', '.json=application/json,.html=text/html; charset=utf-8'],
    bad: ['json', '=text/plain', '.x=caf\u00e9', '.x='],
  },
  NEGATIVE_TTL_MS: { default: 0, good: ['5000', 5000], bad: ['-1', 'forever', '2147483648'] },
  STALE_WHILE_REVALIDATE_MS: { default: 0, good: ['5000', 5000], bad: ['-1', 'soon', '2147483648'] },
  EARLY_REFRESH_BETA: { default: 1, good: ['0.5', 0.5], bad: ['-1', '101', 'high', '1e3'] },
  ACCESS_FILE: { default: '', good: [ACCESS, ACCESS], bad: [join(accessDir, 'missing.json'), accessDir] },
  EVICTION: { default: 'lru', good: ['TinyLFU', 'tinylfu'], bad: ['lfu', 'random', 'arc'] },
  // The file checks themselves: test/tls-context.test.ts.
  TLS_CERT_FILE: {
    default: '',
    good: [certs.server.cert, certs.server.cert],
    bad: ['/absent/cert.pem', certs.server.key],
    with: { TLS_KEY_FILE: certs.server.key },
  },
  TLS_KEY_FILE: {
    default: '',
    good: [certs.server.key, certs.server.key],
    bad: ['/absent/key.pem', certs.client.key],
    with: { TLS_CERT_FILE: certs.server.cert },
  },
  TLS_CA_FILE: {
    default: '',
    good: [certs.ca, certs.ca],
    bad: ['/absent/ca.pem', certs.server.key],
    with: { TLS_CERT_FILE: certs.server.cert, TLS_KEY_FILE: certs.server.key },
  },
};

t.test('every setting is covered here', async (t) => {
  t.same(SETTINGS.map((s) => s.env).sort(), Object.keys(cases).sort());
});

for (const s of SETTINGS) {
  const c = cases[s.env]!;
  t.test(s.env, async (t) => {
    t.equal(load({})[s.field], c.default, 'default');
    t.equal(load({ [s.env]: '' })[s.field], c.default, 'empty variable means default');
    const beside = c.with ?? {};
    t.equal(load({ ...beside, [s.env]: c.good[0] })[s.field], c.good[1], 'from the environment');
    t.equal(load(beside, [flagOf(s.env), c.good[0]])[s.field], c.good[1], 'from --flag value');
    t.equal(
      load({ ...beside, [s.env]: 'garbage that is never valid ' }, [`${flagOf(s.env)}=${c.good[0]}`])[s.field],
      c.good[1],
      'flag wins over the variable',
    );
    for (const bad of c.bad) {
      t.throws(
        () => loadConfig({ ...beside, [s.env]: bad }, []),
        { name: 'ConfigError', message: new RegExp(`^${s.env}=`) },
        `${s.env}=${bad} refused`,
      );
      const err = (() => {
        try {
          loadConfig({ ...beside, [s.env]: bad }, []);
        } catch (e) {
          return e as Error;
        }
        return undefined;
      })();
      t.ok(err instanceof ConfigError);
      if (s.env !== 'REDIS_URL') t.match(err!.message, bad, 'the message names the value');
    }
  });
}

t.test('byte sizes: a whole number of bytes, or k, m, g, t as KiB, MiB, GiB, TiB', async (t) => {
  const sizes: [string, number][] = [
    ['0', 0],
    ['1000', 1000],
    ['512k', 524288],
    ['512K', 524288],
    ['2g', 2 ** 31],
    ['256mb', 268435456],
    ['256MiB', 268435456],
    ['1 m', 1048576],
  ];
  for (const [raw, bytes] of sizes) t.equal(load({ CACHE_MAX_BYTES: raw }).cacheMaxBytes, bytes, raw);
  t.equal(load({ MAX_VALUE_BYTES: '0' }).maxValueBytes, 0, 'MAX_VALUE_BYTES=0: nothing cached but empty values');
});

t.test('REDIS_URL errors do not print the password', async (t) => {
  t.throws(() => loadConfig({ REDIS_URL: 'http://u:hunter2@h:1' }, []), { message: /^REDIS_URL="http:\/\/u:\*\*\*@h:1/ });
});

t.test('redisUrlGiven tells whether REDIS_URL was set', async (t) => {
  t.equal(load({}).redisUrlGiven, false);
  t.equal(load({ REDIS_URL: 'redis://h:1' }).redisUrlGiven, true);
  t.equal(load({}, ['--redis-url', 'redis://h:1']).redisUrlGiven, true);
});

t.test('HEADERS_TIMEOUT_MS may not exceed REQUEST_TIMEOUT_MS', async (t) => {
  t.throws(() => loadConfig({ HEADERS_TIMEOUT_MS: '2000', REQUEST_TIMEOUT_MS: '1000' }, []), {
    message: /^HEADERS_TIMEOUT_MS=2000: must not exceed REQUEST_TIMEOUT_MS \(1000\)/,
  });
  t.equal(load({ HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '1000' }).headersTimeoutMs, 1000, 'equal is fine');
});

t.test('test hooks are off unless SHARDCACHE_TEST_HOOKS=1', async (t) => {
  t.equal(load({}).testHooks, false);
  t.equal(load({ SHARDCACHE_TEST_HOOKS: 'yes' }).testHooks, false);
  t.equal(load({ SHARDCACHE_TEST_HOOKS: '1' }).testHooks, true);
});

t.test('command line', async (t) => {
  t.equal(loadConfig({}, ['--help']), 'help');
  t.equal(loadConfig({}, ['-h']), 'help');
  t.throws(() => loadConfig({}, ['--nope']), { message: /unknown argument "--nope"/ });
  t.throws(
    () => loadConfig({}, ['--resp-pasword=hunter2']),
    { message: /^unknown argument "--resp-pasword" \(see --help\)$/ },
    'a misspelt flag is named without its value',
  );
  t.throws(() => loadConfig({}, ['--port']), { message: /--port needs a value/ });
  t.throws(() => loadConfig({}, ['--port=x']), { message: /^--port="x"/ });
});

t.test('help lists every setting with its flag and default', async (t) => {
  const text = helpText();
  for (const s of SETTINGS)
    t.match(text, new RegExp(`${s.env}\\s+${flagOf(s.env)}\\s+default ${String(s.default()).replace(/[./]/g, '\\$&')}`));
});

t.test('RESP_PORT: off by default, "off" turns it off, 0 picks a free port', async (t) => {
  t.equal(load({ RESP_PORT: 'off' }).respPort, 'off');
  t.equal(load({ RESP_PORT: 'OFF' }).respPort, 'off');
  t.equal(load({}, ['--resp-port', '0']).respPort, 0);
  t.match(helpText(), /RESP_PORT\s+--resp-port\s+default off/);
});

t.test('INVALIDATION: tracking or ttl, any case', async (t) => {
  t.equal(load({ INVALIDATION: 'Tracking' }).invalidation, 'tracking');
  t.equal(load({}, ['--invalidation=ttl']).invalidation, 'ttl');
  t.throws(() => loadConfig({ INVALIDATION: 'off' }, []), { message: /^INVALIDATION="off": must be one of tracking, ttl/ });
});

t.test('backing modes: standalone by default, a cluster, or sentinels with a master name', async (t) => {
  const standalone = load({ REDIS_URL: 'redis://h:1/3' });
  t.equal(standalone.redisMode, 'standalone');
  t.same(backendSettings(standalone), {
    mode: 'standalone',
    url: 'redis://h:1/3',
    nodes: [],
    sentinelName: '',
    timeoutMs: 1000,
    tracking: { mode: 'default', prefix: '' },
  });
  const cluster = load({ REDIS_CLUSTER_NODES: 'a:7000,[::1]:7001', REDIS_URL: 'rediss://u:pw@ignored:6379', REDIS_TIMEOUT_MS: '250' });
  t.equal(cluster.redisMode, 'cluster');
  t.same(backendSettings(cluster), {
    mode: 'cluster',
    url: 'rediss://u:pw@ignored:6379',
    nodes: [
      { host: 'a', port: 7000 },
      { host: '::1', port: 7001 },
    ],
    sentinelName: '',
    timeoutMs: 250,
    tracking: { mode: 'default', prefix: '' },
  });
  t.equal(load({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_URL: 'redis://h:1/0' }).redisMode, 'cluster', 'database 0 is fine in a cluster');
  const sentinel = load({}, ['--redis-sentinels', 's:26379', '--redis-sentinel-name', 'main']);
  t.equal(sentinel.redisMode, 'sentinel');
  t.same(backendSettings(sentinel).nodes, [{ host: 's', port: 26379 }]);
  t.equal(backendSettings(sentinel).sentinelName, 'main');
  t.same(
    backendSettings(load({ TRACKING_MODE: 'bcast', KEY_PREFIX: 'u%3A' })).tracking,
    { mode: 'bcast', prefix: 'u:' },
    'TRACKING_MODE and KEY_PREFIX reach the shards',
  );
});

t.test('backing modes that contradict each other are refused, naming both settings', async (t) => {
  t.throws(() => loadConfig({ REDIS_CLUSTER_NODES: 'a:1', REDIS_SENTINELS: 's:2', REDIS_SENTINEL_NAME: 'm' }, []), {
    name: 'ConfigError',
    message: /^REDIS_CLUSTER_NODES and REDIS_SENTINELS are both set/,
  });
  t.throws(() => loadConfig({ REDIS_SENTINELS: 's:2' }, []), { message: /^REDIS_SENTINELS is set but REDIS_SENTINEL_NAME is not/ });
  t.throws(() => loadConfig({ REDIS_SENTINEL_NAME: 'm' }, []), { message: /^REDIS_SENTINEL_NAME="m" is set but REDIS_SENTINELS is not/ });
  t.throws(() => loadConfig({ REDIS_CLUSTER_NODES: 'a:1', REDIS_URL: 'redis://h:1/2' }, []), {
    message: /^REDIS_URL selects database 2, but Redis Cluster has only database 0/,
  });
});

t.test('TLS: the certificate and key go together, a CA needs both, and the files are read once here', async (t) => {
  t.equal(load({}).tls, undefined, 'no TLS by default');
  t.throws(() => loadConfig({ TLS_CERT_FILE: certs.server.cert }, []), {
    message: 'TLS_CERT_FILE is set but TLS_KEY_FILE is not: TLS needs both',
  });
  t.throws(() => loadConfig({ TLS_KEY_FILE: certs.server.key }, []), {
    message: 'TLS_KEY_FILE is set but TLS_CERT_FILE is not: TLS needs both',
  });
  t.throws(() => loadConfig({ TLS_CA_FILE: certs.ca }, []), { name: 'ConfigError', message: /^TLS_CA_FILE: client certificates need TLS/ });
  const config = load({ TLS_CERT_FILE: certs.server.cert, TLS_KEY_FILE: certs.server.key, TLS_CA_FILE: certs.ca });
  t.match(config.tls, { serial: certs.server.serial, cert: /^-----BEGIN CERTIFICATE-----/, ca: /^-----BEGIN CERTIFICATE-----/ });
});
