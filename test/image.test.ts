/**
 * The container image, built from the Dockerfile and started with podman on
 * the host network, against a redis-server (and a Redis Cluster) that the
 * harness starts. The base is a STAND-IN for node:24-slim
 * (test/image/standin-base.sh), not the real image: Docker Hub cannot be
 * reached from these machines. Checked: the HEALTHCHECK and the user survive
 * the build, the runtime stage adds only production dependencies; the
 * container answers GET, a 404 and /readyz, runs as a non-root user, and
 * `podman healthcheck run` finds it healthy; `podman stop` under load answers
 * every request the proxy accepted, within 5 s, exit 0; the proxies of
 * docker-compose.yml and deploy/compose.yaml start from their own service
 * definitions in front of a redis-server and a cluster (see docs/deploy.md
 * for what stays unverified). Without podman,
 * mmdebstrap or runc the file fails, naming the apt line.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { parse } from 'yaml';
import { agent, get } from './helpers/http.js';
import { startCluster } from './helpers/cluster.js';
import { buildImage, healthcheck, IMAGE, INSTALL, missingTools, podman, runContainer, type Container } from './helpers/image.js';
import { load } from './helpers/load.js';
import { sleep } from './helpers/time.js';
import { scrape, total } from './helpers/metrics.js';
import { freePort, ROOT, startRedis } from './helpers/processes.js';

// A cold build (stand-in base and every layer) took 2 min 40 s here; tap's 120 s per file is too short.
t.setTimeout(420000);
const MB = (bytes: number): string => (bytes / 1e6).toFixed(0);
const READY = /admin listening on/;
type Service = { build?: string; environment: Record<string, string>; healthcheck: { test: string[] } };
/** The services of a compose file that are built from the Dockerfile: its proxies. */
const proxiesOf = (file: string): [string, Service][] => {
  const compose = parse(readFileSync(join(ROOT, file), 'utf8'), { maxAliasCount: 100 }) as { services: Record<string, Service> };
  return Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
};

const missing = await missingTools();
t.same(missing, [], `podman, mmdebstrap and runc are installed (missing: ${missing.join(', ') || 'none'}; install with: ${INSTALL})`);
if (missing.length === 0) {
  const built = await buildImage();
  // Also on stderr, which tap's reporter shows for a passing file too (comments it does not): the
  // stand-in must not pass for the real base, and the size and build times are figures to watch.
  const note = `NOTE: the image is built FROM a stand-in for node:24-slim (Debian bookworm minbase + the project's Node 24 + npm + user node, test/image/standin-base.sh), not the real node:24-slim. stand-in ${built.base}: ${built.baseBuilt ? 'built' : 'reused'} in ${built.baseSeconds.toFixed(1)} s, ${MB(built.baseSize)} MB; podman build ${built.buildSeconds.toFixed(1)} s; image ${IMAGE} (${built.id.slice(0, 19)}): ${MB(built.size)} MB`;
  t.comment(note);
  process.stderr.write(`image test: ${note}\n`);
  const http = agent(32);
  t.teardown(() => http.close());
  const started = async (
    tt: Parameters<typeof runContainer>[0],
    env: Record<string, string>,
    extra: string[] = [],
  ): Promise<{ c: Container; url: string; admin: string }> => {
    const [port, adminPort] = [await freePort(), await freePort()];
    const c = await runContainer(tt, built.id, { PORT: String(port), ADMIN_PORT: String(adminPort), ...env }, READY, extra);
    return { c, url: `http://127.0.0.1:${port}`, admin: `http://127.0.0.1:${adminPort}` };
  };

  t.test(
    `the image, built FROM a STAND-IN for node:24-slim (${MB(built.size)} MB on its ${MB(built.baseSize)} MB): HEALTHCHECK kept, user node, production dependencies only`,
    async (t) => {
      const [image] = JSON.parse(await podman(['image', 'inspect', built.id])) as {
        Config: { User: string; Env: string[] };
        Healthcheck?: { Test: string[] };
      }[];
      const { Config: config, Healthcheck: check } = image!;
      t.equal(config.User, 'node', 'USER node');
      t.match(check?.Test.join(' '), /^CMD node -e fetch\(.*\/healthz/, 'the HEALTHCHECK survives the build (--format docker)');
      t.ok(config.Env.includes('HOST=0.0.0.0'), 'listens on every address, as a container must');
      const modules = (await podman(['run', '--rm', '--network', 'none', built.id, 'ls', 'node_modules'])).split('\n');
      t.ok(modules.includes('ioredis') && modules.includes('piscina'), 'the production dependencies are there');
      t.same(
        modules.filter((m) => ['typescript', 'tap', 'clinic', '@types'].includes(m)),
        [],
        'no dev dependency',
      );
      t.ok(built.size - built.baseSize < 50e6, `the runtime stage adds ${MB(built.size - built.baseSize)} MB to the base (under 50)`);
    },
  );

  t.test('started as the image says: GET 200, a 404, /readyz, a non-root user, healthy by its HEALTHCHECK', async (t) => {
    const redis = await startRedis(t);
    await redis.client.set('greeting', 'hello from redis');
    const { c, url, admin } = await started(t, { REDIS_URL: redis.url });
    const hit = await get(url, '/greeting', { dispatcher: http });
    t.equal(hit.status, 200, 'GET of a key Redis holds: 200');
    t.equal(hit.body.toString(), 'hello from redis', 'with its value');
    t.equal((await get(url, '/no-such-key', { dispatcher: http })).status, 404, 'GET of a key Redis lacks: 404');
    t.equal((await get(admin, '/readyz', { dispatcher: http })).status, 200, '/readyz');
    const status = await podman(['exec', c.name, 'cat', '/proc/1/status']);
    const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
    t.equal(uid, '1000', 'the proxy (pid 1 in the container) runs as uid 1000');
    t.equal((await podman(['exec', c.name, 'id', '-un'])).trim(), 'node', 'named node');
    t.same(await healthcheck(c.name), { code: 0, status: 'healthy' }, 'podman healthcheck run: healthy');
  });

  t.test('podman stop under load: every request the proxy accepted is answered, the stop takes under 5 s, exit 0', async (t) => {
    const redis = await startRedis(t);
    const keys = Array.from({ length: 200 }, (_, i) => `img:${i}`);
    await redis.client.mset(...keys.flatMap((k) => [k, `v-${k}`]));
    const { c, url, admin } = await started(t, {
      REDIS_URL: redis.url,
      SHARDS: '2',
      CACHE_TTL_MS: '60000',
      REDIS_TIMEOUT_MS: '3000',
      SHUTDOWN_TIMEOUT_MS: '4000',
    });
    const warm = await Promise.all(
      keys.map((k) =>
        request(`${url}/${k}`, { dispatcher: http }).then(async (r) => r.statusCode === 200 && (await r.body.text()) === `v-${k}`),
      ),
    );
    t.ok(warm.every(Boolean), 'warm-up: all 200');
    const loop = load({ base: url, keys, clients: 8, dispatcher: http, stop: () => false, maxRequests: 50000, endOnError: true });
    await sleep(300);
    // Requests held in flight by a sleeping Redis when SIGTERM arrives: the drain must wait for them.
    const held = Array.from({ length: 5 }, (_, i) => `img:held:${i}`);
    await redis.client.mset(...held.flatMap((k) => [k, `v-${k}`]));
    const { done: sleeping } = await redis.hold(t, 1.5);
    const own = agent(held.length);
    t.teardown(() => own.close());
    const heldShots = Promise.all(
      held.map((k) =>
        request(`${url}/${k}`, { dispatcher: own }).then(
          async (r) => ({ key: k, status: r.statusCode, body: await r.body.text(), error: '' }),
          (err: Error & { code?: string }) => ({ key: k, status: 0, body: '', error: err.code ?? err.message }),
        ),
      ),
    );
    // SIGTERM only once the proxy's own gauge shows them in flight (podman's own start-up may take a while).
    let inflight = 0;
    for (let i = 0; i < 40 && inflight < held.length; i++) {
      inflight = total(await scrape(admin), 'shardcache_inflight_requests');
      if (inflight < held.length) await sleep(10);
    }
    t.ok(inflight >= held.length, `${inflight} requests in flight before the stop`);
    const stopAt = performance.now();
    await podman(['stop', '--time', '10', c.name]);
    const stopSeconds = (performance.now() - stopAt) / 1000;
    const code = await c.exited;
    await sleeping;
    const shots = [...(await loop), ...(await heldShots)];
    const stopped = /answered (\d+) of (\d+) requests received/.exec(c.logs());
    t.ok(stopped, 'the stop is logged');
    const answered = shots.filter((s) => s.status !== 0);
    const refused = shots.filter((s) => s.status === 0);
    t.equal(code, 0, 'exit code 0');
    t.ok(stopSeconds < 5, `podman stop took ${stopSeconds.toFixed(2)} s (under 5)`);
    t.ok(/SIGTERM: stopping; draining [1-9]/.test(c.logs()), 'requests were in flight when SIGTERM arrived');
    t.equal(Number(stopped?.[1]), Number(stopped?.[2]), 'the proxy answered every request it received');
    t.equal(warm.length + answered.length, Number(stopped?.[2]), 'every answer reached its client: 0 failed requests');
    t.same(
      answered.filter((s) => s.status !== 200 || s.body !== `v-${s.key}`),
      [],
      'all of them 200 with the right value',
    );
    t.ok(
      refused.every((s) => ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET'].includes(s.error!)),
      `requests after the stop refused at the connection (${refused.length})`,
    );
    t.comment(
      `podman stop under load: ${answered.length + warm.length} answered, ${refused.length} refused after close, stop ${stopSeconds.toFixed(2)} s, exit ${code}`,
    );
  });

  t.test('docker-compose.yml: its proxy, from its service definition, in front of a redis-server', async (t) => {
    const [[name, service], ...more] = proxiesOf('docker-compose.yml');
    t.equal(more.length, 0, 'one proxy built from the Dockerfile');
    const redis = await startRedis(t);
    await redis.client.set('greeting', 'hello');
    // The file's Redis is a service named redis; here it is the harness's.
    const { c, url } = await started(t, { ...service!.environment, REDIS_URL: redis.url });
    t.equal((await get(url, '/greeting', { dispatcher: http })).body.toString(), 'hello', `${name}: reads through the proxy`);
    t.same(await healthcheck(c.name), { code: 0, status: 'healthy' }, `${name}: healthy by the image's HEALTHCHECK`);
    await podman(['stop', '--time', '10', c.name]);
    t.equal(await c.exited, 0, `${name}: stops with exit code 0`);
  });

  t.test('deploy/compose.yaml: its two proxies, from their own service definitions, in front of a Redis Cluster', async (t) => {
    const proxies = proxiesOf('deploy/compose.yaml');
    t.equal(proxies.length, 2, 'two proxies built from the Dockerfile');
    const cluster = await startCluster(t);
    const running = [];
    for (const [name, service] of proxies) {
      // On the host network each proxy needs ports of its own, and the
      // cluster's addresses are the harness's: everything else is the file's.
      const [port, adminPort] = [await freePort(), await freePort()];
      const env: Record<string, string> = {
        ...service.environment,
        REDIS_CLUSTER_NODES: cluster.seeds,
        PORT: String(port),
        ADMIN_PORT: String(adminPort),
      };
      const check = service.healthcheck.test.slice(1).map((a) => a.replace(':9464/', `:${adminPort}/`));
      const c = await runContainer(t, built.id, env, READY, ['--health-cmd', JSON.stringify(check)]);
      running.push({ name, c, shards: Number(env.SHARDS ?? 1), url: `http://127.0.0.1:${port}`, admin: `http://127.0.0.1:${adminPort}` });
    }
    const keys = Array.from({ length: 30 }, (_, i) => `compose:${i}`);
    for (const k of keys) await cluster.client.set(k, `old ${k}`);
    for (const p of running) {
      t.same(await healthcheck(p.c.name), { code: 0, status: 'healthy' }, `${p.name}: its compose healthcheck (/readyz) passes`);
      t.same(
        await Promise.all(keys.map(async (k) => (await get(p.url, `/${k}`, { dispatcher: http })).body.toString())),
        keys.map((k) => `old ${k}`),
        `${p.name}: every key right`,
      );
      t.equal(
        total(await scrape(p.admin), 'shardcache_redis_nodes_up'),
        p.shards * 3,
        `${p.name}: each of its ${p.shards} shards reads from the 3 masters`,
      );
    }
    for (const k of keys) await cluster.client.set(k, `new ${k}`);
    await sleep(200);
    for (const p of running)
      t.same(
        await Promise.all(keys.map(async (k) => (await get(p.url, `/${k}`, { dispatcher: http })).body.toString())),
        keys.map((k) => `new ${k}`),
        `${p.name}: the SETs show (tracking on every master)`,
      );
    for (const p of running) {
      await podman(['stop', '--time', '10', p.c.name]);
      t.equal(await p.c.exited, 0, `${p.name}: stops with exit code 0`);
    }
  });
}
