/**
 * RESP_PASSWORD against the built proxy: before AUTH only AUTH, HELLO and
 * QUIT run, with Redis's own replies; real clients (ioredis, redis-cli) log
 * in with their usual options. Without RESP_PASSWORD, AUTH answers as a
 * Redis without a password does, which clients configured with one accept.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { scrape, total } from './helpers/metrics.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { command, decodeAll, exchange, type Reply } from './helpers/resp.js';

const run = promisify(execFile);
const redis = await startRedis(t);
await redis.client.set('auth:k', 'value');
const PASSWORD = 'correct horse';
const locked = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', RESP_PORT: '0', RESP_PASSWORD: PASSWORD });
const open = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', RESP_PORT: '0' });

const NOAUTH = { error: 'NOAUTH Authentication required.' };
const WRONGPASS = { error: 'WRONGPASS invalid username-password pair or user is disabled.' };

async function replies(port: number, cases: [string[], Reply][]): Promise<Reply[]> {
  const { data } = await exchange(port, Buffer.concat(cases.map(([args]) => command(...args))), { replies: cases.length });
  return decodeAll(data);
}

function client(port: number, options: { password?: string; username?: string; protocol?: 2 | 3; enableReadyCheck?: boolean } = {}): Redis {
  const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, ...options });
  t.teardown(() => c.disconnect());
  return c;
}

t.test('with RESP_PASSWORD: nothing but AUTH, HELLO and QUIT before the password, then everything', async (t) => {
  t.match(locked.logs(), /RESP listening on redis:\/\/[^ ]+ \(AUTH required: RESP_PASSWORD is set\)/);
  t.notMatch(locked.logs(), PASSWORD, 'the password is never logged');
  const cases: [string[], Reply][] = [
    [['GET', 'auth:k'], NOAUTH],
    [['PING'], NOAUTH],
    [['MGET', 'auth:k'], NOAUTH],
    [['SET', 'auth:k', 'x'], { error: "ERR unknown or unsupported command 'SET'" }],
    [['GET'], { error: "ERR wrong number of arguments for 'get' command" }],
    // Redis 7.0.15's replies, word for word: an EXEC refused before it runs says why.
    [['EXEC'], { error: 'EXECABORT Transaction discarded because of: NOAUTH Authentication required.' }],
    [['MULTI'], NOAUTH],
    [['WATCH', 'auth:k'], NOAUTH],
    [
      ['HELLO', '2'],
      {
        error:
          'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
      },
    ],
    [['AUTH', 'wrong'], WRONGPASS],
    [['AUTH', 'someone', PASSWORD], WRONGPASS],
    [['AUTH', 'correct', 'horse', 'x'], { error: 'ERR syntax error' }],
    [['GET', 'auth:k'], NOAUTH],
    [['AUTH', PASSWORD], 'OK'],
    [['GET', 'auth:k'], 'value'],
    [['AUTH', 'wrong again'], WRONGPASS],
    [['GET', 'auth:k'], 'value'],
    [['MULTI'], 'OK'],
    [['GET', 'auth:k'], 'QUEUED'],
    [['EXEC'], ['value']],
  ];
  const got = await replies(locked.respPort!, cases);
  cases.forEach(([args, reply], i) => t.same(got[i], reply, args.join(' ')));

  const viaHello = await replies(locked.respPort!, [
    [['HELLO', '2', 'AUTH', 'default', 'nope'], WRONGPASS],
    [['PING'], NOAUTH],
    [['HELLO', '2', 'AUTH', 'default', PASSWORD, 'SETNAME', 'app'], []],
    [['CLIENT', 'GETNAME'], 'app'],
    [['AUTH', 'default', PASSWORD], 'OK'],
    [['PING'], 'PONG'],
  ]);
  t.same(viaHello[0], WRONGPASS);
  t.same(viaHello[1], NOAUTH);
  t.match(viaHello[2], ['server', 'shardcache'], 'HELLO with AUTH logs in and answers its map');
  t.same(viaHello.slice(3), ['app', 'OK', 'PONG'], 'SETNAME in the same HELLO took effect; AUTH default <password> works too');

  const quit = await replies(locked.respPort!, [[['QUIT'], 'OK']]);
  t.same(quit, ['OK'], 'QUIT needs no password');
});

t.test('with RESP_PASSWORD: ioredis and redis-cli log in with their usual options', async (t) => {
  for (const protocol of [2, 3] as const) {
    const c = client(locked.respPort!, { password: PASSWORD, protocol });
    await c.connect();
    t.equal(await c.get('auth:k'), 'value', `ioredis, protocol ${protocol}`);
  }
  const named = client(locked.respPort!, { username: 'default', password: PASSWORD, protocol: 2 });
  await named.connect();
  t.equal(await named.get('auth:k'), 'value', 'ioredis with username default');
  const wrong = client(locked.respPort!, { password: 'nope', protocol: 2 });
  const errors: Error[] = [];
  wrong.on('error', (err: Error) => errors.push(err));
  await t.rejects(wrong.connect(), 'a wrong password fails the connection');
  t.match(errors[0]?.message, /^WRONGPASS/, 'with the WRONGPASS reply as the reason');
  const none = client(locked.respPort!, { protocol: 2, enableReadyCheck: false });
  await none.connect();
  await t.rejects(none.get('auth:k'), /NOAUTH/, 'no password: commands are refused');
  const { stdout } = await run('redis-cli', ['-p', String(locked.respPort), '--no-auth-warning', '-a', PASSWORD, 'GET', 'auth:k']);
  t.equal(stdout.trim(), 'value', 'redis-cli -a');
  const m = await scrape(locked.admin);
  t.ok(total(m, 'shardcache_requests_total', { protocol: 'resp', command: 'AUTH', status: 'ok' }) >= 3, 'AUTH is counted by outcome');
  t.ok(
    total(m, 'shardcache_requests_total', { protocol: 'resp', command: 'GET', status: 'error' }) >= 3,
    'a GET refused with NOAUTH counts as an error',
  );
});

t.test('without RESP_PASSWORD: AUTH answers as a Redis without a password does', async (t) => {
  const cases: [string[], Reply][] = [
    [
      ['AUTH', 'anything'],
      {
        error:
          'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
      },
    ],
    [['AUTH', 'default', 'anything'], 'OK'],
    [['AUTH', 'someone', 'anything'], WRONGPASS],
    [['GET', 'auth:k'], 'value'],
  ];
  const got = await replies(open.respPort!, cases);
  cases.forEach(([args, reply], i) => t.same(got[i], reply, args.join(' ')));
  // ioredis warns about the password Redis does not need and goes on, as it does with Redis itself.
  const warn = console.warn;
  const warnings: unknown[] = [];
  console.warn = (...args: unknown[]) => warnings.push(args);
  try {
    const c = client(open.respPort!, { password: 'unneeded', protocol: 2 });
    await c.connect();
    t.equal(await c.get('auth:k'), 'value', 'a client configured with a password still reads');
  } finally {
    console.warn = warn;
  }
  t.equal(warnings.length, 1, 'after one warning from ioredis');
});
