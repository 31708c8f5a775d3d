/**
 * nginx + Lua, the peer an experienced engineer would build instead of
 * shardcache (issue 23): `servers/nginx/nginx.conf` and `peer.lua`, from the
 * Debian packages nginx, libnginx-mod-http-lua, lua-nginx-redis and
 * lua-resty-lrucache (benchmarks/setup.sh installs them). Each start gets a
 * free loopback port and its own prefix, pid file and logs in a temporary
 * directory; the master is started in the foreground and stopped by its pid
 * (SIGTERM: nginx's fast shutdown, which ends its workers).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ROOT, stopProcess } from '../../test/helpers/processes.js';
import { type BenchEnv, type Running, Stoppers, starting, type Target, waitForPort } from './targets.js';

const SERVERS = join(ROOT, 'benchmarks/servers/nginx');

/** What the peer needs from the machine, by the package that brings it. */
const NEEDS: [string, string][] = [
  ['/usr/lib/nginx/modules/ngx_http_lua_module.so', 'libnginx-mod-http-lua'],
  ['/usr/share/lua/5.1/nginx/redis.lua', 'lua-nginx-redis'],
  ['/usr/share/lua/5.1/resty/lrucache.lua', 'lua-resty-lrucache'],
];

/** The handler of peer.lua a target runs: `hit` (per-worker lrucache) or `miss` (no cache). */
type Handler = 'hit' | 'miss';

function nginxTarget(name: string, handler: Handler, workers: number): Target {
  return {
    name,
    start: (e) => {
      const stoppers = new Stoppers();
      return starting(stoppers, () => startNginx(e, handler, workers, stoppers));
    },
  };
}

async function startNginx(e: BenchEnv, handler: Handler, workers: number, stoppers: Stoppers): Promise<Running> {
  const missing = NEEDS.filter(([file]) => !existsSync(file)).map(([, pkg]) => pkg);
  if (missing.length > 0) throw new Error(`${missing.join(', ')} not installed (run benchmarks/setup.sh)`);
  const dir = mkdtempSync(join(tmpdir(), 'nginx-peer-'));
  stoppers.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const fields: Record<string, string> = {
    WORKERS: String(workers),
    DIR: dir,
    LUA: SERVERS,
    REDIS_PORT: String(e.redisPort),
    CAPACITY: String(e.capacity),
    TTL_SECONDS: String(Math.ceil(e.ttlMs / 1000)),
    PORT: String(port),
    HANDLER: handler,
  };
  const conf = readFileSync(join(SERVERS, 'nginx.conf'), 'utf8').replace(/\{\{(\w+)\}\}/g, (_, f: string) => fields[f]!);
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: 'ignore' });
  stoppers.teardown(() => stopProcess(child));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) => reject(new Error(`nginx not installed (run benchmarks/setup.sh): ${err.message}`)));
  });
  await waitForPort(port, child, 'nginx');
  // The master and, found through /proc, its workers: CPU per request counts them all.
  return { url: `http://127.0.0.1:${port}`, style: 'plain', pids: [child.pid!], stop: () => stoppers.run() };
}

/** The hit-path peer: one nginx worker with its own lua-resty-lrucache (misses: lua-resty-redis GET). */
export const nginxLru = nginxTarget('nginx + Lua lrucache (1 worker)', 'hit', 1);
/** The same with two workers, a cache each: what nginx does with both cores of this machine. */
export const nginxLru2 = nginxTarget('nginx + Lua lrucache (2 workers)', 'hit', 2);
/** The miss-path peer: one nginx worker, no cache, one lua-resty-redis GET per request. */
export const nginxRedis = nginxTarget('nginx + Lua, no cache (1 worker)', 'miss', 1);
