/**
 * ACCESS_FILE over HTTP against the built proxy and a real Redis: every
 * 401 / 403 / 200 case, Bearer and Basic, HEAD and conditional requests, and
 * out-of-scope keys answered the same whether cached or not, without Redis
 * hearing of them (INFO commandstats).
 */
import t from 'tap';
import { request } from 'undici';
import { basic, writeAccessFile } from './helpers/access.js';
import { getCalls } from './helpers/commandstats.js';
import { startProxy, startRedis } from './helpers/processes.js';

const redis = await startRedis(t);
await redis.client.mset('page:1', 'p1', 'img:1', 'i1', 'user:1', 'u1', 'user:2', 'u2');
const dir = t.testdir({});
const ACCESS_FILE = writeAccessFile(dir, [
  { name: 'web', token: 'web-token', keys: ['page:', 'img:'] },
  { name: 'ops', token: 'ops-token', keys: [''], admin: true },
  { name: 'none', token: 'none-token', keys: [] },
]);
const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', ACCESS_FILE });

interface Got {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

async function ask(
  path: string,
  authorization?: string | string[],
  extra: Record<string, string> = {},
  method: 'GET' | 'HEAD' = 'GET',
): Promise<Got> {
  const headers: Record<string, string | string[]> = { ...extra };
  if (authorization !== undefined) headers.authorization = authorization;
  const res = await request(`${proxy.url}${path}`, { method, headers });
  return { status: res.statusCode, body: await res.body.text(), headers: res.headers };
}

const BEARER_WEB = 'Bearer web-token';
const UNAUTHORIZED = 'a credential is required: Authorization: Bearer <token> (ACCESS_FILE is set)\n';
const OUT_OF_SCOPE = "key outside this credential's keys (ACCESS_FILE)\n";

t.test('no credential, an unknown one, or one that does not parse: 401 with WWW-Authenticate', async (t) => {
  for (const auth of [
    undefined,
    'Bearer wrong',
    'Bearer ',
    'web-token',
    'Token web-token',
    basic('web', 'ops-token'),
    basic('nobody', 'web-token'),
    'Basic !!!',
    [BEARER_WEB, BEARER_WEB],
  ]) {
    for (const path of ['/page:1', '/user:1', '/', '/%zz']) {
      const got = await ask(path, auth);
      t.equal(got.status, 401, `${JSON.stringify(auth)} ${path}`);
      t.equal(got.headers['www-authenticate'], 'Bearer realm="shardcache"');
      t.equal(got.body, UNAUTHORIZED);
    }
  }
  const head = await ask('/page:1', undefined, {}, 'HEAD');
  t.same([head.status, head.body, head.headers['www-authenticate']], [401, '', 'Bearer realm="shardcache"'], 'HEAD too');
});

t.test('a key inside the scope: 200 by Bearer or Basic; outside: 403; KEY_PREFIX-free keys with "" ', async (t) => {
  const cases: [string, string, number, string][] = [
    [BEARER_WEB, '/page:1', 200, 'p1'],
    [BEARER_WEB, '/img:1', 200, 'i1'],
    ['bearer web-token', '/page%3A1', 200, 'p1'],
    [basic('web', 'web-token'), '/page:1', 200, 'p1'],
    [BEARER_WEB, '/page:absent', 404, ''],
    [BEARER_WEB, '/user:1', 403, OUT_OF_SCOPE],
    [BEARER_WEB, '/pag', 403, OUT_OF_SCOPE],
    [BEARER_WEB, '/%zz', 400, 'malformed percent-encoding in key\n'],
    ['Bearer ops-token', '/user:1', 200, 'u1'],
    [basic('ops', 'ops-token'), '/page:1', 200, 'p1'],
    ['Bearer none-token', '/page:1', 403, OUT_OF_SCOPE],
  ];
  for (const [auth, path, status, body] of cases) {
    const got = await ask(path, auth);
    t.same([got.status, got.body], [status, body], `${auth} ${path}`);
  }
  const head = await ask('/user:1', BEARER_WEB, {}, 'HEAD');
  t.same([head.status, head.body], [403, ''], 'HEAD outside the scope: 403 without a body');
  const headOk = await ask('/page:1', BEARER_WEB, {}, 'HEAD');
  t.same([headOk.status, headOk.headers['content-length']], [200, '2']);
});

t.test('conditional requests follow the same rules', async (t) => {
  const first = await ask('/page:1', BEARER_WEB);
  const etag = first.headers.etag as string;
  t.ok(etag, 'values carry an ETag');
  t.equal((await ask('/page:1', BEARER_WEB, { 'if-none-match': etag })).status, 304);
  t.equal((await ask('/page:1', undefined, { 'if-none-match': etag })).status, 401);
  const other = (await ask('/user:1', 'Bearer ops-token')).headers.etag as string;
  t.equal((await ask('/user:1', BEARER_WEB, { 'if-none-match': other })).status, 403, 'a matching ETag does not get past the scope');
});

t.test('out of scope: the same answer cached or not, and Redis never asked', async (t) => {
  await ask('/user:1', 'Bearer ops-token');
  t.equal((await ask('/user:1', 'Bearer ops-token')).headers.age !== undefined, true, 'user:1 is cached now');
  const before = await getCalls(redis.client);
  const cached = await ask('/user:1', BEARER_WEB);
  const uncached = await ask('/user:2', BEARER_WEB);
  const never = await ask('/user:never', BEARER_WEB);
  t.same([cached.status, cached.body, cached.headers['content-length']], [403, OUT_OF_SCOPE, String(OUT_OF_SCOPE.length)]);
  t.same([uncached.status, uncached.body], [cached.status, cached.body], 'uncached: the same answer');
  t.same([never.status, never.body], [cached.status, cached.body], 'absent from Redis: the same answer');
  t.same(Object.keys(uncached.headers).sort(), Object.keys(cached.headers).sort(), 'the same headers');
  t.equal(await getCalls(redis.client), before, 'Redis was not asked for any of them');
});

t.test('a KEY_PREFIX applies before the credential: even "" reads only under it', async (t) => {
  const scoped = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', ACCESS_FILE, KEY_PREFIX: 'page%3A' });
  const res = await request(`${scoped.url}/user:1`, { headers: { authorization: 'Bearer ops-token' } });
  t.same([res.statusCode, await res.body.text()], [403, 'key outside KEY_PREFIX\n']);
  const ok = await request(`${scoped.url}/page:1`, { headers: { authorization: 'Bearer ops-token' } });
  t.same([ok.statusCode, await ok.body.text()], [200, 'p1']);
  const none = await request(`${scoped.url}/page:1`);
  await none.body.dump();
  t.equal(none.statusCode, 401);
});

t.test('the tokens never reach the log', async (t) => {
  t.notMatch(proxy.logs(), /web-token|ops-token|none-token/);
});
