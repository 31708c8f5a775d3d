/**
 * Certificate rotation on the built proxy: the files are replaced and
 * SIGHUP sent while HTTPS keep-alive clients, new HTTPS connections and TLS
 * RESP clients keep reading. Not one request fails, and afterwards every
 * listener of every acceptor serves the new certificate (its serial). A bad
 * file on SIGHUP keeps the certificate in force and logs one error line
 * naming the setting.
 */
import t from 'tap';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { makeCerts, type CertPair } from './helpers/certs.js';
import { get } from './helpers/http.js';
import { load, type Shot } from './helpers/load.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { sleep } from './helpers/time.js';
import { httpsAgent, ioredis, tlsOptions, type Identity } from './helpers/tls-clients.js';

const certs = await makeCerts(t);
const next = await certs.newServer('server-next', '5e1002');
const redis = await startRedis(t);
const KEYS = Array.from({ length: 50 }, (_, i) => `rot:${i}`);
await redis.client.mset(Object.fromEntries(KEYS.map((k) => [k, `v-${k}`])));
const live = { cert: join(certs.dir, 'live.pem'), key: join(certs.dir, 'live.key') };
const install = (pair: CertPair): void => {
  copyFileSync(pair.cert, live.cert);
  copyFileSync(pair.key, live.key);
};
install(certs.server);
const proxy = await startProxy(t, {
  REDIS_URL: redis.url,
  ACCEPTORS: '2',
  SHARDS: '1',
  RESP_PORT: '0',
  TLS_CERT_FILE: live.cert,
  TLS_KEY_FILE: live.key,
});
const id: Identity = { ca: certs.ca };
const ports = { http: Number(new URL(proxy.url).port), resp: proxy.respPort!, admin: Number(new URL(proxy.admin).port) };

/** The serials served to `n` fresh connections on `port` (the kernel spreads them over both acceptors). */
async function servedSerials(port: number, n: number): Promise<Set<string>> {
  const serials = new Set<string>();
  for (let i = 0; i < n; i++) {
    serials.add(
      await new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port, ...tlsOptions(id) }, () => {
          resolve(socket.getPeerCertificate().serialNumber);
          socket.destroy();
        });
        socket.once('error', reject);
      }),
    );
  }
  return serials;
}

/** Waits for a log line matching `pattern` after the first `from` characters of the log. */
async function logged(pattern: RegExp, from: number): Promise<string> {
  for (let i = 0; i < 250; i++) {
    const m = pattern.exec(proxy.logs().slice(from));
    if (m !== null) return m[0];
    await sleep(20);
  }
  throw new Error(`no log line ${pattern} in:\n${proxy.logs().slice(from)}`);
}

t.test('SIGHUP under load: no request fails, and every listener then serves the new certificate', async (t) => {
  for (const port of Object.values(ports)) t.same([...(await servedSerials(port, 4))], [certs.server.serial], 'the first certificate');
  let stop = false;
  // Keep-alive HTTPS: the same 8 connections before, during and after the reload.
  const keepAlive = load({ base: proxy.url, keys: KEYS, clients: 8, dispatcher: httpsAgent(t, id, 8), stop: () => stop, maxRequests: 1e6 });
  // New HTTPS connections, one request each: handshakes during the reload.
  const fresh: Shot[] = [];
  const handshakes = (async () => {
    for (let i = 0; !stop; i++) {
      const agent = httpsAgent(t, id, 1);
      const started = performance.now();
      const answer = await get(proxy.url, `/${KEYS[i % KEYS.length]}`, { dispatcher: agent }).then(
        (a) => ({ status: a.status, body: a.body.toString(), error: undefined }),
        (err: Error & { code?: string }) => ({ status: 0, body: '', error: err.code ?? err.message }),
      );
      fresh.push({ key: KEYS[i % KEYS.length]!, headers: {}, started, ended: performance.now(), ...answer });
      await agent.close();
    }
  })();
  // TLS RESP: 4 connections pipelining GETs the whole time.
  const respErrors: string[] = [];
  let respReplies = 0;
  const clients = await Promise.all(
    Array.from({ length: 4 }, async () => {
      const c = ioredis(t, ports.resp, id);
      await c.connect();
      return c;
    }),
  );
  const resp = Promise.all(
    clients.map(async (c, n) => {
      for (let i = n; !stop; i++) {
        const key = KEYS[i % KEYS.length]!;
        const got = await c.get(key).catch((err: Error) => `error ${err.message}`);
        if (got === `v-${key}`) respReplies++;
        else respErrors.push(String(got));
      }
    }),
  );
  await sleep(1000);
  const from = proxy.logs().length;
  install(next);
  process.kill(proxy.child.pid!, 'SIGHUP');
  const line = await logged(/"msg":"SIGHUP: TLS_CERT_FILE [^"]*"/, from);
  t.match(line, `reloaded in every acceptor: certificate serial ${next.serial}`);
  await sleep(1000);
  stop = true;
  const shots = await keepAlive;
  await Promise.all([handshakes, resp]);

  const failed = [...shots, ...fresh].filter((s) => s.status !== 200 || s.body !== `v-${s.key}`);
  t.equal(
    failed.length,
    0,
    `HTTPS: ${shots.length} keep-alive and ${fresh.length} fresh-connection requests, failed: ${JSON.stringify(failed.slice(0, 3))}`,
  );
  t.ok(shots.length > 100 && fresh.length > 10, 'the load ran throughout');
  t.same(respErrors, [], `RESP over TLS: ${respReplies} GETs, none failed`);
  t.ok(respReplies > 100);
  t.same(
    clients.map((c) => c.status),
    ['ready', 'ready', 'ready', 'ready'],
    'the RESP connections opened before the reload are still open',
  );

  for (const [name, port] of Object.entries(ports))
    t.same([...(await servedSerials(port, 20))], [next.serial], `${name}: the new certificate, on every acceptor`);
});

t.test('a bad file on SIGHUP keeps the certificate in force and logs one error line naming it', async (t) => {
  writeFileSync(live.key, 'not a key\n');
  const from = proxy.logs().length;
  process.kill(proxy.child.pid!, 'SIGHUP');
  const line = await logged(/\{"level":50[^\n]*SIGHUP[^\n]*\n/, from);
  t.match(
    (JSON.parse(line) as { msg: string }).msg,
    /SIGHUP: TLS_CERT_FILE .*live\.pem not reloaded, the one loaded before stays in force: TLS_KEY_FILE=".*live\.key": holds no PEM private key/,
  );
  await sleep(200);
  t.equal(
    proxy
      .logs()
      .slice(from)
      .match(/"level":50/g)?.length,
    1,
    'one error line, for both acceptors',
  );
  for (const [name, port] of Object.entries(ports))
    t.same([...(await servedSerials(port, 6))], [next.serial], `${name}: still the certificate loaded before`);
  t.equal((await get(proxy.url, '/rot:1', { dispatcher: httpsAgent(t, id) })).body.toString(), 'v-rot:1', 'and it serves');
  const stats = JSON.parse((await get(proxy.admin, '/stats.json', { dispatcher: httpsAgent(t, id) })).body.toString()) as {
    files: { setting: string; path: string; loadedAt: number; error?: string }[];
  };
  t.match(stats.files, [{ setting: 'TLS_CERT_FILE', path: live.cert, error: /TLS_KEY_FILE/ }], '/stats.json says the last reload failed');

  install(certs.server);
  const back = proxy.logs().length;
  process.kill(proxy.child.pid!, 'SIGHUP');
  t.match(
    await logged(/"msg":"SIGHUP: TLS_CERT_FILE [^"]*"/, back),
    `reloaded in every acceptor: certificate serial ${certs.server.serial}`,
  );
  t.same([...(await servedSerials(ports.http, 6))], [certs.server.serial], 'fixed files load on the next SIGHUP');
});
