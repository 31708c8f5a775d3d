/**
 * src/tls-context.ts: which files are accepted, what a refusal names, and
 * that a reload reaches new handshakes without touching open connections.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { describeTls, loadTls, reloadServer, serverTlsOptions, type TlsFileError, type TlsFiles } from '../src/tls-context.js';
import { makeCerts } from './helpers/certs.js';

const run = promisify(execFile);
const certs = await makeCerts(t);
const files: TlsFiles = { tlsCertFile: certs.server.cert, tlsKeyFile: certs.server.key, tlsCaFile: '' };
const write = (name: string, text: string): string => {
  const path = join(certs.dir, name);
  writeFileSync(path, text);
  return path;
};

t.test('good files: the PEM text, the serial and fresh ticket keys', async (t) => {
  const m = loadTls(files);
  t.equal(m.cert, readFileSync(certs.server.cert, 'utf8'));
  t.equal(m.key, readFileSync(certs.server.key, 'utf8'));
  t.equal(m.ca, '');
  t.equal(m.serial, certs.server.serial);
  t.match(m.ticketKeys, /^[0-9a-f]{96}$/);
  t.not(loadTls(files).ticketKeys, m.ticketKeys, 'new ticket keys at start-up');
  t.equal(loadTls(files, m.ticketKeys).ticketKeys, m.ticketKeys, 'the same ones on a reload');
  t.notOk(serverTlsOptions(m).requestCert, 'no CA: no client certificate asked for');
  t.match(describeTls(m), new RegExp(`^certificate serial ${certs.server.serial}, valid until .+ GMT$`));
  const mutual = loadTls({ ...files, tlsCaFile: certs.ca });
  t.equal(mutual.ca, readFileSync(certs.ca, 'utf8'));
  t.match(serverTlsOptions(mutual), { requestCert: true, rejectUnauthorized: true, ca: mutual.ca });
  t.match(describeTls(mutual), /client certificates required \(TLS_CA_FILE\)$/);
  const bundle = write('bundle.pem', readFileSync(certs.ca, 'utf8') + readFileSync(certs.otherCa, 'utf8'));
  t.equal(loadTls({ ...files, tlsCaFile: bundle }).ca.match(/BEGIN CERTIFICATE/g)?.length, 2, 'a bundle of two CAs');
});

t.test('a bad file is refused with the setting, the file and the reason', async (t) => {
  const cert = readFileSync(certs.server.cert, 'utf8');
  const encrypted = join(certs.dir, 'encrypted.key');
  await run('openssl', ['pkey', '-in', certs.server.key, '-aes256', '-passout', 'pass:secret', '-out', encrypted]);
  const cases: [string, Partial<TlsFiles>, RegExp][] = [
    ['a missing certificate', { tlsCertFile: join(certs.dir, 'nope.pem') }, /^TLS_CERT_FILE=".*nope\.pem": cannot read it \(ENOENT\)$/],
    ['a folder as key', { tlsKeyFile: certs.dir }, /^TLS_KEY_FILE=".*": cannot read it \(EISDIR\)$/],
    ['a missing CA', { tlsCaFile: join(certs.dir, 'nope-ca.pem') }, /^TLS_CA_FILE=".*nope-ca\.pem": cannot read it/],
    ['a key as certificate', { tlsCertFile: certs.server.key }, /^TLS_CERT_FILE=.*: holds no PEM certificate/],
    [
      'a damaged certificate',
      { tlsCertFile: write('damaged.pem', cert.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA')) },
      /^TLS_CERT_FILE=.*: holds no PEM certificate/,
    ],
    ['a certificate as key', { tlsKeyFile: certs.server.cert }, /^TLS_KEY_FILE=.*: holds no PEM private key/],
    ['an encrypted key', { tlsKeyFile: encrypted }, /^TLS_KEY_FILE=.*: the key is encrypted; give it unencrypted/],
    [
      'the key of another certificate',
      { tlsKeyFile: certs.client.key },
      /^TLS_KEY_FILE=".*client\.key": is not the key of the certificate in TLS_CERT_FILE \(.*server\.pem\)$/,
    ],
    [
      'a CA file without a certificate',
      { tlsCaFile: write('empty-ca.pem', 'nothing here\n') },
      /^TLS_CA_FILE=.*: holds no PEM certificate/,
    ],
    [
      'a bundle whose second block is damaged',
      { tlsCaFile: write('half.pem', `${cert}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`) },
      /^TLS_CA_FILE=.*half\.pem": holds no PEM certificate/,
    ],
  ];
  for (const [what, change, message] of cases) t.throws(() => loadTls({ ...files, ...change }), { name: 'TlsFileError', message }, what);
  const err = (() => {
    try {
      loadTls({ ...files, tlsKeyFile: encrypted });
    } catch (e) {
      return e as TlsFileError;
    }
  })();
  t.equal(err?.setting, 'TLS_KEY_FILE');
  t.equal(err?.file, encrypted);
});

t.test('a key OpenSSL refuses at its security level (RSA 512) is refused, naming TLS_CERT_FILE', async (t) => {
  const key = join(certs.dir, 'weak.key');
  const cert = join(certs.dir, 'weak.pem');
  await run('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:512', '-out', key]);
  await run('openssl', ['req', '-x509', '-key', key, '-out', cert, '-days', '1', '-subj', '/CN=weak']);
  t.throws(() => loadTls({ tlsCertFile: cert, tlsKeyFile: key, tlsCaFile: '' }), {
    message: /^TLS_CERT_FILE=".*weak\.pem": refused by OpenSSL: .*too small/,
  });
});

/** Connects to `port`, trusting the test CA, and resolves with the served certificate's serial and the socket. */
function connect(port: number, options: tls.ConnectionOptions = {}): Promise<{ serial: string; socket: tls.TLSSocket }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', ca: readFileSync(certs.ca), ...options }, () =>
      resolve({ serial: socket.getPeerCertificate().serialNumber, socket }),
    );
    socket.once('error', reject);
  });
}

t.test('reloadServer: new handshakes get the new certificate, open connections carry on', async (t) => {
  const next = await certs.newServer('server-next', '5e1002');
  const server = tls.createServer(serverTlsOptions(loadTls(files)), (s) => s.pipe(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const { port } = server.address() as net.AddressInfo;
  const before = await connect(port);
  t.teardown(() => before.socket.destroy());
  t.equal(before.serial, certs.server.serial);
  reloadServer(server, loadTls({ ...files, tlsCertFile: next.cert, tlsKeyFile: next.key }));
  const after = await connect(port);
  after.socket.destroy();
  t.equal(after.serial, '5E1002', 'a handshake after the reload gets the new certificate');
  const echo = new Promise<string>((resolve) => before.socket.once('data', (d: Buffer) => resolve(d.toString())));
  before.socket.write('still here');
  t.equal(await echo, 'still here', 'the connection opened before the reload still works');
});

t.test('with a CA: the right client certificate is let in, none or another CA is refused', async (t) => {
  const server = tls.createServer(serverTlsOptions(loadTls({ ...files, tlsCaFile: certs.ca })), (s) => s.end('hello'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const { port } = server.address() as net.AddressInfo;
  // In TLS 1.3 the client's handshake ends before the server has checked its
  // certificate: a refused client sees the connection close, with or without
  // an alert, and never the server's first byte.
  const read = (options: tls.ConnectionOptions): Promise<string> =>
    new Promise((resolve) => {
      const socket = tls.connect({ port, host: '127.0.0.1', ca: readFileSync(certs.ca), ...options });
      let got = '';
      socket.on('data', (d: Buffer) => (got += d.toString()));
      socket.on('error', () => undefined);
      socket.once('close', () => resolve(got));
    });
  t.equal(await read({ cert: readFileSync(certs.client.cert), key: readFileSync(certs.client.key) }), 'hello');
  t.equal(await read({}), '', 'no client certificate: closed before a byte is served');
  t.equal(
    await read({ cert: readFileSync(certs.otherClient.cert), key: readFileSync(certs.otherClient.key) }),
    '',
    'a client certificate from another CA: closed before a byte is served',
  );
});
