/**
 * ACCESS_FILE on the admin listener of the built proxy: /healthz and /readyz
 * stay open (probes), every other route (the status page, /stats.json,
 * /metrics, unknown paths, the test hooks) needs an admin credential; and the
 * scrape job of deploy/prometheus/scrape.yml, sent as Prometheus sends its
 * `authorization` setting, reads /metrics.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { parse } from 'yaml';
import { basic, writeAccessFile } from './helpers/access.js';
import { ROOT, startProxy, startRedis } from './helpers/processes.js';

const redis = await startRedis(t);
const ACCESS_FILE = writeAccessFile(t.testdir({}), [
  { name: 'web', token: 'web-token', keys: [''] },
  { name: 'ops', token: 'ops-token', keys: [], admin: true },
]);
const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', ACCESS_FILE, SHARDCACHE_TEST_HOOKS: '1' });

async function ask(
  path: string,
  authorization?: string,
  method: 'GET' | 'HEAD' | 'POST' = 'GET',
): Promise<{ status: number; body: string; auth: unknown }> {
  const res = await request(`${proxy.admin}${path}`, { method, headers: authorization === undefined ? {} : { authorization } });
  return { status: res.statusCode, body: await res.body.text(), auth: res.headers['www-authenticate'] };
}

t.test('the routes by credential: none 401, non-admin 403, admin 200; probes open to all', async (t) => {
  const routes = ['/', '/stats.json', '/metrics'];
  for (const path of routes) {
    const none = await ask(path);
    t.same([none.status, none.auth], [401, 'Bearer realm="shardcache"'], `${path} without a credential`);
    t.equal((await ask(path, 'Bearer wrong')).status, 401, `${path} with an unknown token`);
    t.equal((await ask(path, 'Bearer web-token')).status, 403, `${path} as web (not admin)`);
    t.equal((await ask(path, 'Bearer ops-token')).status, 200, `${path} as ops`);
    t.equal((await ask(path, basic('ops', 'ops-token'))).status, 200, `${path} as ops by Basic`);
    t.equal((await ask(path, undefined, 'HEAD')).status, 401, `HEAD ${path}`);
  }
  for (const path of ['/healthz', '/readyz']) {
    t.equal((await ask(path)).status, 200, `${path} without a credential`);
    t.equal((await ask(path, 'Bearer web-token')).status, 200, `${path} with any`);
  }
  t.equal((await ask('/nowhere')).status, 401, 'an unknown path says nothing without a credential');
  t.equal((await ask('/nowhere', 'Bearer ops-token')).status, 404);
  t.equal((await ask('/test/kill-shard/1', undefined, 'POST')).status, 401, 'the test hooks too');
  t.equal((await ask('/test/kill-shard/1', 'Bearer web-token', 'POST')).status, 403);
  t.match(
    (await ask('/stats.json', 'Bearer ops-token')).body,
    /"files":\[\{"setting":"ACCESS_FILE","path":"[^"]+access\.json","loadedAt":\d+\}\]/,
  );
  t.match((await ask('/', 'Bearer ops-token')).body, /<dt>ACCESS_FILE<\/dt><dd><code>[^<]+access\.json<\/code> loaded \d{4}-/);
});

t.test("deploy/prometheus/scrape.yml: Prometheus's authorization setting reads /metrics", async (t) => {
  const job = (
    parse(readFileSync(join(ROOT, 'deploy/prometheus/scrape.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; authorization: { type: string; credentials_file: string } }[];
    }
  ).scrape_configs[0]!;
  t.equal(job.job_name, 'shardcache');
  t.match(job.authorization, { type: 'Bearer', credentials_file: String });
  // What Prometheus sends: "<type> <the file's content, trimmed>".
  const res = await ask('/metrics', `${job.authorization.type} ${'ops-token\n'.trim()}`);
  t.equal(res.status, 200);
  t.match(res.body, /^# TYPE shardcache_\w+ /m);
});
