/**
 * ACCESS_FILE on the RESP listener of the built proxy: AUTH <name> <token>
 * and HELLO … AUTH, NOAUTH before, NOPERM outside the scope with Redis 7's
 * own text (compared with a real redis-server's ACL reply to the same MGET),
 * RESP_PASSWORD as the `default` user beside the credentials, with raw
 * frames, redis-cli, ioredis and redis-py; out-of-scope keys never reach Redis.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { writeAccessFile } from './helpers/access.js';
import { getCalls } from './helpers/commandstats.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { command, decodeAll, exchange, type Reply } from './helpers/resp.js';

const run = promisify(execFile);
const redis = await startRedis(t);
await redis.client.mset('page:1', 'p1', 'img:1', 'i1', 'user:1', 'u1');
const ACCESS_FILE = writeAccessFile(t.testdir({}), [
  { name: 'web', token: 'web-token', keys: ['page:', 'img:'] },
  { name: 'ops', token: 'ops-token', keys: [''], admin: true },
]);
const only = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', RESP_PORT: '0', ACCESS_FILE });
const both = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', RESP_PORT: '0', ACCESS_FILE, RESP_PASSWORD: 'default-pass' });

const NOAUTH = { error: 'NOAUTH Authentication required.' };
const WRONGPASS = { error: 'WRONGPASS invalid username-password pair or user is disabled.' };
const NOPERM_TEXT = 'NOPERM this user has no permissions to access one of the keys used as arguments';
const NOPERM = { error: NOPERM_TEXT };

/** Sends every case's command in one write and compares each reply; a HELLO's map counts as 'OK' when it is shardcache's. */
async function check(t: { same(a: unknown, b: unknown, m: string): void }, port: number, cases: [string[], Reply][]): Promise<void> {
  const { data } = await exchange(port, Buffer.concat(cases.map(([args]) => command(...args))), { replies: cases.length });
  const got = decodeAll(data);
  cases.forEach(([args, reply], i) => {
    const g = got[i];
    const hello = args[0] === 'HELLO' && Array.isArray(g) && g[0] === 'server' && g[1] === 'shardcache';
    t.same(hello ? 'OK' : g, reply, args.join(' '));
  });
}

t.test('raw frames: NOAUTH before, AUTH <name> <token>, NOPERM outside the scope (MGET refused whole)', async (t) => {
  await check(t, only.respPort!, [
    [['GET', 'page:1'], NOAUTH],
    [['MGET', 'page:1'], NOAUTH],
    [['AUTH', 'web', 'wrong'], WRONGPASS],
    [['AUTH', 'ops', 'web-token'], WRONGPASS],
    [['AUTH', 'web-token'], WRONGPASS],
    [['AUTH', 'default', 'web-token'], WRONGPASS],
    [['GET', 'page:1'], NOAUTH],
    [['AUTH', 'web', 'web-token'], 'OK'],
    [['GET', 'page:1'], 'p1'],
    [['GET', 'user:1'], NOPERM],
    [['GET', 'user:absent'], NOPERM],
    [
      ['MGET', 'page:1', 'img:1', 'page:none'],
      ['p1', 'i1', null],
    ],
    [['MGET', 'page:1', 'user:1'], NOPERM],
    [['MGET', 'user:1', 'page:1'], NOPERM],
    [['AUTH', 'ops', 'wrong'], WRONGPASS],
    [['GET', 'user:1'], NOPERM],
    [['PING'], 'PONG'],
  ]);
  await check(t, only.respPort!, [
    [['HELLO', '2', 'AUTH', 'web', 'nope'], WRONGPASS],
    [['GET', 'page:1'], NOAUTH],
    [['HELLO', '2', 'AUTH', 'ops', 'ops-token', 'SETNAME', 'o'], 'OK'],
    [
      ['MGET', 'page:1', 'user:1'],
      ['p1', 'u1'],
    ],
    [['AUTH', 'web', 'web-token'], 'OK'],
    [['GET', 'user:1'], NOPERM],
  ]);
});

t.test("NOPERM is a real Redis 7's reply to the same MGET by an ACL user", async (t) => {
  await redis.client.call('ACL', 'SETUSER', 'u', 'on', '>pw', '~page:*', '+@read');
  t.teardown(() => redis.client.call('ACL', 'DELUSER', 'u'));
  const frames = Buffer.concat([command('AUTH', 'u', 'pw'), command('MGET', 'page:1', 'user:1'), command('GET', 'user:1')]);
  const real = await exchange(redis.port, frames, { replies: 3 });
  const ours = await exchange(
    only.respPort!,
    Buffer.concat([command('AUTH', 'web', 'web-token'), command('MGET', 'page:1', 'user:1'), command('GET', 'user:1')]),
    {
      replies: 3,
    },
  );
  t.same(decodeAll(real.data), ['OK', NOPERM, NOPERM], 'Redis refuses the whole MGET');
  t.equal(ours.data.toString('latin1'), real.data.toString('latin1'), 'byte for byte the same replies');
});

t.test('RESP_PASSWORD beside ACCESS_FILE: AUTH <password> alone is the default user, reading every key', async (t) => {
  await check(t, both.respPort!, [
    [['GET', 'user:1'], NOAUTH],
    [['AUTH', 'wrong'], WRONGPASS],
    [['AUTH', 'default-pass'], 'OK'],
    [
      ['MGET', 'user:1', 'page:1'],
      ['u1', 'p1'],
    ],
    [['AUTH', 'web', 'web-token'], 'OK'],
    [['GET', 'user:1'], NOPERM],
    [['AUTH', 'default', 'default-pass'], 'OK'],
    [['GET', 'user:1'], 'u1'],
  ]);
});

t.test('out-of-scope keys never reach Redis', async (t) => {
  const before = await getCalls(redis.client);
  await check(t, only.respPort!, [
    [['AUTH', 'web', 'web-token'], 'OK'],
    ...Array.from({ length: 20 }, (_, i): [string[], Reply] => [['GET', `user:${i}`], NOPERM]),
    ...Array.from({ length: 20 }, (_, i): [string[], Reply] => [['MGET', `page:x${i}`, `secret:${i}`], NOPERM]),
  ]);
  t.equal(await getCalls(redis.client), before, 'no GET or MGET at Redis');
});

t.test('redis-cli logs in with --user/--pass and prints NOAUTH and NOPERM', async (t) => {
  const cli = async (...args: string[]): Promise<string> =>
    (await run('redis-cli', ['-p', String(only.respPort), '--no-auth-warning', ...args])).stdout.trim();
  t.equal(await cli('GET', 'page:1'), 'NOAUTH Authentication required.');
  t.equal(await cli('--user', 'web', '--pass', 'web-token', 'GET', 'page:1'), 'p1');
  t.equal(await cli('--user', 'web', '--pass', 'web-token', 'GET', 'user:1'), NOPERM_TEXT);
  t.equal(await cli('--user', 'web', '--pass', 'web-token', 'MGET', 'page:1', 'user:1'), NOPERM_TEXT);
  t.match(await cli('--user', 'web', '--pass', 'nope', 'GET', 'page:1'), /WRONGPASS|NOAUTH/);
  t.equal(await cli('--user', 'ops', '--pass', 'ops-token', 'GET', 'user:1'), 'u1');
});

t.test('ioredis: username and password log in; NOPERM rejects the command', async (t) => {
  const client = (username: string, password: string): Redis => {
    const c = new Redis({
      port: only.respPort!,
      host: '127.0.0.1',
      username,
      password,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    c.on('error', () => {});
    t.teardown(() => c.disconnect());
    return c;
  };
  const web = client('web', 'web-token');
  await web.connect();
  t.equal(await web.get('page:1'), 'p1');
  await t.rejects(web.get('user:1'), { message: NOPERM_TEXT });
  await t.rejects(web.mget('page:1', 'user:1'), { message: NOPERM_TEXT });
  t.same(await web.mget('page:1', 'img:1'), ['p1', 'i1']);
  const wrong = client('web', 'wrong');
  const errors: string[] = [];
  wrong.on('error', (err: Error) => errors.push(err.message));
  await t.rejects(wrong.connect(), 'a wrong token fails the connection');
  t.match(errors.join('\n'), /WRONGPASS/);
});

t.test('redis-py (Debian python3-redis) logs in and gets NoPermissionError', async (t) => {
  const script = `
import json, redis
r = redis.Redis(host='127.0.0.1', port=${only.respPort}, username='web', password='web-token')
out = {'page': r.get('page:1').decode()}
for name, call in [('get', lambda: r.get('user:1')), ('mget', lambda: r.mget(['page:1', 'user:1']))]:
    try:
        call()
        out[name] = 'no error'
    except redis.exceptions.RedisError as e:
        out[name] = [type(e).__name__, str(e)]
try:
    redis.Redis(host='127.0.0.1', port=${only.respPort}).get('page:1')
except redis.exceptions.RedisError as e:
    out['anonymous'] = [type(e).__name__, str(e)]
try:
    redis.Redis(host='127.0.0.1', port=${only.respPort}, username='web', password='bad').get('page:1')
except redis.exceptions.RedisError as e:
    out['wrong'] = [type(e).__name__, str(e)]
print(json.dumps(out))
`;
  const { stdout } = await run('/usr/bin/python3', ['-c', script]);
  const out = JSON.parse(stdout) as Record<string, unknown>;
  t.equal(out.page, 'p1');
  t.same(out.get, ['NoPermissionError', NOPERM_TEXT.replace(/^NOPERM /, '')]);
  t.same(out.mget, ['NoPermissionError', NOPERM_TEXT.replace(/^NOPERM /, '')]);
  // redis-py 4.3.4's own classes for these replies, as it raises them against Redis itself.
  t.same(out.anonymous, ['AuthenticationError', 'Authentication required.']);
  t.same(out.wrong, ['ResponseError', 'WRONGPASS invalid username-password pair or user is disabled.']);
});

t.test('the tokens never reach the log', async (t) => {
  t.notMatch(only.logs() + both.logs(), /web-token|ops-token|default-pass/);
});
