/**
 * Mutual TLS (TLS_CA_FILE) on every listener of the built proxy: a client
 * certificate signed by that CA is served; no certificate, or one signed by
 * another CA, is refused in the handshake, before a byte of data, by every
 * client the listener must serve.
 */
import t from 'tap';
import { makeCerts } from './helpers/certs.js';
import { get } from './helpers/http.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { curl, httpsAgent, ioredis, redisCli, redisPy, type Identity } from './helpers/tls-clients.js';

const certs = await makeCerts(t);
const redis = await startRedis(t);
await redis.client.set('mtls:k', 'value');
const proxy = await startProxy(t, {
  REDIS_URL: redis.url,
  ACCEPTORS: '2',
  SHARDS: '1',
  RESP_PORT: '0',
  TLS_CERT_FILE: certs.server.cert,
  TLS_KEY_FILE: certs.server.key,
  TLS_CA_FILE: certs.ca,
});
const port = proxy.respPort!;

const good: Identity = { ca: certs.ca, client: certs.client };
const refused: [string, Identity][] = [
  ['no client certificate', { ca: certs.ca }],
  ['a client certificate from another CA', { ca: certs.ca, client: certs.otherClient }],
];

t.test('the start-up line says client certificates are required', async (t) => {
  t.match(
    proxy.logs(),
    /TLS on every listener: certificate serial [0-9A-F]+, valid until .*, client certificates required \(TLS_CA_FILE\)/,
  );
});

t.test('HTTPS: the right certificate is served; none, or another CA, is refused', async (t) => {
  t.equal(
    (await get(proxy.url, '/mtls:k', { dispatcher: httpsAgent(t, good) })).body.toString(),
    'value',
    'undici with the client certificate',
  );
  const ok = await curl(`${proxy.url}/mtls:k`, good);
  t.equal(ok.stdout, 'value', `curl --cert: ${ok.stderr}`);
  for (const [what, id] of refused) {
    const answer = await get(proxy.url, '/mtls:k', { dispatcher: httpsAgent(t, id, 1) }).then(
      (a) => `status ${a.status}`,
      (err: Error & { code?: string }) => `error ${err.code ?? err.message}`,
    );
    t.match(answer, /^error /, `undici, ${what}: ${answer}`);
    const c = await curl(`${proxy.url}/mtls:k`, id);
    t.not(c.code, 0, `curl, ${what}: exit ${c.code} (${c.stderr.trim()})`);
    t.equal(c.stdout, '', 'nothing served');
  }
});

t.test('RESP over TLS: redis-cli, ioredis and redis-py with the right certificate; none or another CA refused', async (t) => {
  t.equal((await redisCli(port, good, 'GET', 'mtls:k')).stdout.trim(), 'value', 'redis-cli --cert --key');
  const client = ioredis(t, port, good);
  await client.connect();
  t.equal(await client.get('mtls:k'), 'value', 'ioredis with tls.cert and tls.key');
  const py = await redisPy(port, good, 'mtls:k');
  t.equal(py.stdout.trim(), "b'value' [b'value']", `redis-py with ssl_certfile: ${py.stderr}`);
  for (const [what, id] of refused) {
    const cli = await redisCli(port, id, 'GET', 'mtls:k');
    t.notMatch(cli.stdout, /value/, `redis-cli, ${what}: ${cli.stdout.trim()} ${cli.stderr.trim()}`);
    const refusedClient = ioredis(t, port, id);
    // TLS 1.3: the client's side of the handshake ends first; the refusal comes as the connection closes.
    const got = await refusedClient.connect().then(
      () => refusedClient.get('mtls:k').then((v) => `answered ${v}`),
      (err: Error) => `error ${err.message}`,
    );
    t.match(got, /^error /, `ioredis, ${what}: ${got}`);
    const p = await redisPy(port, id, 'mtls:k');
    t.not(p.code, 0, `redis-py, ${what}: exit ${p.code}`);
    t.notMatch(p.stdout, /value/);
  }
});

t.test('the admin listener asks for the same client certificates', async (t) => {
  t.equal((await curl(`${proxy.admin}/healthz`, good)).stdout, 'ok\n', 'served with the client certificate');
  for (const [what, id] of refused) {
    const c = await curl(`${proxy.admin}/healthz`, id);
    t.not(c.code, 0, `${what}: exit ${c.code}`);
    t.equal(c.stdout, '');
  }
});

t.test('refused handshakes leave the listeners serving', async (t) => {
  t.equal((await redisCli(port, good, 'PING')).stdout.trim(), 'PONG');
  t.equal((await curl(`${proxy.url}/mtls:k`, good)).stdout, 'value');
});
