/**
 * SIGHUP plumbing: a file named by a setting is loaded again in place, a bad
 * one keeps what was loaded before (src/acceptor/reloadable.ts); the built
 * proxy survives SIGHUP (Node's default for it is to exit) and keeps serving.
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReloadableFile } from '../src/acceptor/reloadable.js';
import { get } from './helpers/http.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { sleep } from './helpers/time.js';

t.test('a good file is put in force; a bad one keeps the old content and says why', async (t) => {
  const dir = t.testdir({ 'f.txt': 'one' });
  const path = join(dir, 'f.txt');
  let inForce = '';
  const file = new ReloadableFile('SOME_FILE', path, (p) => {
    const text = readFileSync(p, 'utf8');
    if (text.startsWith('bad')) throw new Error('starts with bad');
    inForce = text;
  });
  t.same(file.status(), { setting: 'SOME_FILE', path, loadedAt: 0 }, 'never loaded yet');
  const before = Date.now();
  const first = file.load();
  t.equal(inForce, 'one');
  t.ok(first.loadedAt >= before && first.error === undefined);
  writeFileSync(path, 'bad content');
  const failed = file.load();
  t.equal(inForce, 'one', 'the old content stays');
  t.equal(failed.loadedAt, first.loadedAt, 'loadedAt is the last load that worked');
  t.equal(failed.error, 'starts with bad');
  writeFileSync(path, 'two');
  t.same(file.load(), { setting: 'SOME_FILE', path, loadedAt: file.status().loadedAt }, 'the error is gone once it loads');
  t.equal(inForce, 'two');
});

t.test('the proxy survives SIGHUP without files to reload, in every acceptor, and keeps serving', async (t) => {
  const redis = await startRedis(t);
  await redis.client.set('hup', 'v');
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', ACCEPTORS: '2' });
  process.kill(proxy.child.pid!, 'SIGHUP');
  for (let i = 0; i < 100 && !/SIGHUP: no file to reload/.test(proxy.logs()); i++) await sleep(20);
  t.match(proxy.logs(), /SIGHUP: no file to reload/);
  t.equal(proxy.child.exitCode, null, 'still running');
  t.equal((await get(proxy.url, '/hup')).body.toString(), 'v');
  const stats = JSON.parse((await get(proxy.admin, '/stats.json')).body.toString()) as { files: unknown[] };
  t.same(stats.files, [], '/stats.json lists the loaded files: none');
});
