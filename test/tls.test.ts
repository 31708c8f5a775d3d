/**
 * TLS on every listener of the built proxy (TLS_CERT_FILE, TLS_KEY_FILE),
 * with certificates this test makes: HTTPS on PORT for undici and curl,
 * TLS on RESP_PORT for redis-cli, ioredis and redis-py, HTTPS on the admin
 * port, every acceptor thread serving it; and bad files stop start-up with
 * exit 2 naming the setting.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { request } from 'undici';
import { makeCerts } from './helpers/certs.js';
import { seededRandom } from './helpers/random.js';
import { get } from './helpers/http.js';
import { scrape, total } from './helpers/metrics.js';
import { runProxy, startProxy, startRedis } from './helpers/processes.js';
import { curl, httpsAgent, ioredis, redisCli, redisPy, runCommand, tlsOptions, type Identity } from './helpers/tls-clients.js';

const certs = await makeCerts(t);
const redis = await startRedis(t);
await redis.client.set('tls:k', 'value');
const TLS = { TLS_CERT_FILE: certs.server.cert, TLS_KEY_FILE: certs.server.key };
const proxy = await startProxy(t, { REDIS_URL: redis.url, ACCEPTORS: '2', SHARDS: '1', RESP_PORT: '0', ...TLS });
const id: Identity = { ca: certs.ca };
const agent = httpsAgent(t, id);

t.test('the start-up lines say https:// and rediss://, and which certificate is served', async (t) => {
  t.match(proxy.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  t.match(proxy.admin, /^https:\/\/127\.0\.0\.1:\d+$/);
  t.match(proxy.logs(), /RESP listening on rediss:\/\/127\.0\.0\.1:\d+/);
  t.match(proxy.logs(), `TLS on every listener: certificate serial ${certs.server.serial}, valid until `);
  t.notMatch(proxy.logs(), /PRIVATE KEY/, 'no key material in the log');
});

t.test('HTTPS: GET, HEAD and 404 as over HTTP, from undici and curl', async (t) => {
  const hit = await get(proxy.url, '/tls:k', { dispatcher: agent });
  t.equal(hit.status, 200);
  t.equal(hit.body.toString(), 'value');
  t.match(hit.headers, { 'content-type': 'application/octet-stream', 'content-length': '5', etag: /^"[0-9a-f]{16}"$/ });
  const head = await get(proxy.url, '/tls:k', { method: 'HEAD', dispatcher: agent });
  t.equal(head.status, 200);
  t.equal(head.headers['content-length'], '5');
  t.equal(head.body.length, 0, 'HEAD: no body');
  t.equal((await get(proxy.url, '/tls:absent', { dispatcher: agent })).status, 404);
  t.equal((await get(proxy.url, '/tls:k', { method: 'POST', dispatcher: agent })).status, 405);

  const body = await curl(`https://localhost:${new URL(proxy.url).port}/tls:k`, id);
  t.equal(body.code, 0, body.stderr);
  t.equal(body.stdout, 'value', 'curl, by the name localhost');
  const headers = await curl(`${proxy.url}/tls:k`, id, ['-I']);
  t.match(headers.stdout, /^HTTP\/1\.1 200 OK\r\n/);
  const missing = await curl(`${proxy.url}/tls:absent`, id, ['-o', '/dev/null', '-w', '%{http_code}']);
  t.equal(missing.stdout, '404');
});

t.test('a client that does not trust the CA, or speaks plain HTTP, gets nothing', async (t) => {
  const untrusted = await curl(`${proxy.url}/tls:k`, { ca: certs.otherCa });
  t.not(untrusted.code, 0);
  t.match(untrusted.stderr, /certificate/i, 'curl refuses the unknown issuer');
  const plain = await request(`${proxy.url.replace('https:', 'http:')}/tls:k`).then(
    (res) => `status ${res.statusCode}`,
    (err: Error & { code?: string }) => `error ${err.code}`,
  );
  t.match(plain, /^error /, `plain HTTP on the HTTPS port: ${plain}`);
});

t.test('every acceptor thread serves HTTPS', async (t) => {
  // Fresh connections, one request each: the kernel spreads them over both acceptors.
  for (let i = 0; i < 40; i++) {
    t.equal((await get(proxy.url, '/tls:k', { dispatcher: httpsAgent(t, id, 1) })).status, 200);
  }
  const samples = await scrape(proxy.admin, agent);
  for (const acceptor of ['0', '1']) {
    const accepted = total(samples, 'shardcache_acceptor_connections_total', { acceptor, protocol: 'http' });
    t.ok(accepted > 0, `acceptor ${acceptor} accepted ${accepted} HTTPS connections`);
  }
});

t.test('a TLS session ticket from one acceptor resumes on the other: they share the ticket keys', async (t) => {
  const port = Number(new URL(proxy.url).port);
  const session = await new Promise<Buffer>((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...tlsOptions(id) });
    socket.once('session', (ticket: Buffer) => {
      resolve(ticket);
      socket.destroy();
    });
    socket.once('error', reject);
  });
  const accepted = async (acceptor: string): Promise<number> =>
    total(await scrape(proxy.admin, agent), 'shardcache_acceptor_connections_total', { acceptor, protocol: 'http' });
  const before = [await accepted('0'), await accepted('1')];
  let resumed = 0;
  for (let i = 0; i < 30; i++) {
    resumed += await new Promise<number>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, session, ...tlsOptions(id) }, () => {
        resolve(socket.isSessionReused() ? 1 : 0);
        socket.destroy();
      });
      socket.once('error', reject);
    });
  }
  t.equal(resumed, 30, 'every connection resumed the session');
  const spread = [(await accepted('0')) - before[0]!, (await accepted('1')) - before[1]!];
  t.ok(spread[0]! > 0 && spread[1]! > 0, `both acceptors took some of them (${spread.join(' and ')})`);
});

t.test('RESP over TLS: redis-cli --tls, ioredis tls and redis-py ssl=True', async (t) => {
  const port = proxy.respPort!;
  const cli = await redisCli(port, id, 'GET', 'tls:k');
  t.equal(cli.code, 0, cli.stderr);
  t.equal(cli.stdout.trim(), 'value', 'redis-cli --tls GET');
  t.equal((await redisCli(port, id, 'MGET', 'tls:k', 'tls:absent')).stdout, 'value\n\n', 'redis-cli --tls MGET');
  const client = ioredis(t, port, id);
  await client.connect();
  t.equal(await client.get('tls:k'), 'value', 'ioredis');
  t.same(await client.mget('tls:k', 'tls:absent'), ['value', null]);
  const py = await redisPy(port, id, 'tls:k', 'tls:absent');
  t.equal(py.code, 0, py.stderr);
  t.equal(py.stdout.trim(), "b'value' [b'value', None]", 'redis-py');
  // Both acceptors took RESP connections too.
  for (let i = 0; i < 30; i++) t.equal((await redisCli(port, id, 'PING')).stdout.trim(), 'PONG');
  const samples = await scrape(proxy.admin, agent);
  for (const acceptor of ['0', '1'])
    t.ok(
      total(samples, 'shardcache_acceptor_connections_total', { acceptor, protocol: 'resp' }) > 0,
      `acceptor ${acceptor} served RESP over TLS`,
    );
});

t.test('a plain RESP client on the TLS port is answered nothing, and the listener carries on', async (t) => {
  const plain = await runCommand('redis-cli', ['-h', '127.0.0.1', '-p', String(proxy.respPort), 'PING']);
  t.notMatch(plain.stdout, /PONG/, `plain redis-cli: ${plain.stdout.trim()} ${plain.stderr.trim()}`);
  t.equal((await redisCli(proxy.respPort!, id, 'PING')).stdout.trim(), 'PONG');
});

t.test('garbage instead of a ClientHello on each TLS port is dropped, and the process serves on', async (t) => {
  const random = seededRandom(21);
  const blob = (): Buffer => {
    const bytes = Buffer.alloc(1 + Math.floor(random() * 600));
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
    // Half of them start like a TLS handshake record, to get past the first byte.
    if (random() < 0.5) bytes.set([0x16, 0x03, 0x01].slice(0, bytes.length));
    return bytes;
  };
  const ports = [new URL(proxy.url).port, proxy.respPort!, new URL(proxy.admin).port].map(Number);
  for (const port of ports) {
    const sent = await Promise.all(
      Array.from(
        { length: 100 },
        () =>
          new Promise<string>((resolve) => {
            const socket = net.connect({ host: '127.0.0.1', port }, () => socket.end(blob()));
            let got = '';
            socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
            socket.on('error', () => undefined);
            socket.once('close', () => resolve(got));
            socket.setTimeout(5000, () => socket.destroy());
          }),
      ),
    );
    t.notOk(
      sent.some((answer) => /value|HTTP\/1\.1|PONG/.test(answer)),
      `port ${port}: 100 garbage handshakes, no plain answer`,
    );
  }
  t.equal(proxy.child.exitCode, null, 'still running');
  t.equal((await get(proxy.url, '/tls:k', { dispatcher: agent })).body.toString(), 'value');
  t.equal((await redisCli(proxy.respPort!, id, 'GET', 'tls:k')).stdout.trim(), 'value');
});

t.test('the admin listener speaks HTTPS with the same certificate', async (t) => {
  t.equal((await curl(`${proxy.admin}/healthz`, id)).stdout, 'ok\n');
  const metrics = await get(proxy.admin, '/metrics', { dispatcher: agent });
  t.equal(metrics.status, 200);
  t.match(metrics.body.toString(), /shardcache_acceptor_listening\{acceptor="1"\} 1/);
  const served = await new Promise<string>((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: Number(new URL(proxy.admin).port), ...tlsOptions(id) }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.destroy();
    });
    socket.once('error', reject);
  });
  t.equal(served, certs.server.serial);
});

t.test('a client that stalls in the HTTPS handshake is cut at HEADERS_TIMEOUT_MS, as one that stalls in its headers', async (t) => {
  const strict = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', HEADERS_TIMEOUT_MS: '500', ...TLS });
  const started = performance.now();
  const closedAfter = await new Promise<number>((resolve, reject) => {
    // TCP only: the connection is open, and no ClientHello ever comes.
    const socket = net.connect({ host: '127.0.0.1', port: Number(new URL(strict.url).port) });
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(performance.now() - started));
    setTimeout(() => reject(new Error('still open after 5 s')), 5000).unref();
  });
  t.ok(closedAfter >= 450 && closedAfter <= 1000, `closed after ${closedAfter.toFixed(0)} ms (HEADERS_TIMEOUT_MS=500, 2x margin)`);
  t.equal((await get(strict.url, '/tls:k', { dispatcher: agent })).status, 200, 'a client that completes its handshake is served');
});

t.test('bad TLS settings stop start-up with exit 2, naming the setting and the file', async (t) => {
  const notPem = join(certs.dir, 'not.pem');
  writeFileSync(notPem, 'hello\n');
  const cases: [Record<string, string>, RegExp][] = [
    [
      { TLS_CERT_FILE: join(certs.dir, 'absent.pem'), TLS_KEY_FILE: certs.server.key },
      /TLS_CERT_FILE=".*absent\.pem": cannot read it \(ENOENT\)/,
    ],
    [{ TLS_CERT_FILE: notPem, TLS_KEY_FILE: certs.server.key }, /TLS_CERT_FILE=".*not\.pem": holds no PEM certificate/],
    [{ TLS_CERT_FILE: certs.server.cert, TLS_KEY_FILE: notPem }, /TLS_KEY_FILE=".*not\.pem": holds no PEM private key/],
    [
      { TLS_CERT_FILE: certs.server.cert, TLS_KEY_FILE: certs.client.key },
      /TLS_KEY_FILE=".*client\.key": is not the key of the certificate in TLS_CERT_FILE/,
    ],
    [{ ...TLS, TLS_CA_FILE: notPem }, /TLS_CA_FILE=".*not\.pem": holds no PEM certificate/],
    [{ TLS_CERT_FILE: certs.server.cert }, /TLS_CERT_FILE is set but TLS_KEY_FILE is not/],
    [{ TLS_KEY_FILE: certs.server.key }, /TLS_KEY_FILE is set but TLS_CERT_FILE is not/],
    [{ TLS_CA_FILE: certs.ca }, /TLS_CA_FILE: client certificates need TLS/],
  ];
  for (const [env, message] of cases) {
    const { code, stderr } = await runProxy({ REDIS_URL: redis.url, SHARDS: '1', ...env });
    t.equal(code, 2, `exit 2: ${stderr.trim()}`);
    t.match(stderr, /^shardcache: bad setting: /);
    t.match(stderr, message);
    t.notMatch(stderr, /\n\s+at /, 'no stack trace');
  }
  const flag = await runProxy({ REDIS_URL: redis.url, SHARDS: '1' }, ['--tls-cert-file', certs.server.cert, '--tls-key-file', notPem]);
  t.equal(flag.code, 2, 'the flags are checked the same way');
  t.match(flag.stderr, /TLS_KEY_FILE=".*not\.pem"/);
});
