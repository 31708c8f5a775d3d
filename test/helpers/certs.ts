/**
 * Certificates for TLS tests, made with the machine's openssl in a temporary
 * folder removed in the test's teardown: a test CA, a server certificate for
 * 127.0.0.1 and localhost signed by it, a client certificate signed by it,
 * and a second CA with a client certificate of its own (the "other CA" of
 * the mutual-TLS cases). EC P-256 keys: quick to make and to shake hands with.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate and its key, as file paths, and the serial it was given (hex, as X509Certificate spells it). */
export interface CertPair {
  cert: string;
  key: string;
  serial: string;
}

export interface Certs {
  dir: string;
  /** The test CA's certificate (PEM path): what clients trust, and TLS_CA_FILE for mutual TLS. */
  ca: string;
  server: CertPair;
  client: CertPair;
  /** A second CA, unknown to the proxy, and a client certificate it signed. */
  otherCa: string;
  otherClient: CertPair;
  /** Signs one more server certificate for 127.0.0.1 and localhost with the test CA, with serial `serial` (hex, an even number of digits, no leading 0). */
  newServer(name: string, serial: string): Promise<CertPair>;
}

const DAYS = '2';
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function makeCa(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  await run('openssl', [
    'req',
    '-x509',
    ...EC,
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    DAYS,
    '-subj',
    `/CN=shardcache test ${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { cert, key };
}

async function sign(dir: string, ca: { cert: string; key: string }, name: string, serial: string, extensions: string): Promise<CertPair> {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  await run('openssl', ['req', ...EC, '-keyout', key, '-out', csr, '-subj', `/CN=${name}`]);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-set_serial',
    `0x${serial}`,
    '-days',
    DAYS,
    '-extfile',
    ext,
    '-out',
    cert,
  ]);
  return { cert, key, serial: serial.toUpperCase() };
}

const SERVER_EXT = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n';
const CLIENT_EXT = 'extendedKeyUsage=clientAuth\n';

/** Makes every certificate above in a fresh temporary folder, removed in `t`'s teardown. */
export async function makeCerts(t: { teardown(fn: () => unknown): void }): Promise<Certs> {
  const dir = mkdtempSync(join(tmpdir(), 'shardcache-certs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [ca, other] = await Promise.all([makeCa(dir, 'ca'), makeCa(dir, 'other-ca')]);
  const [server, client, otherClient] = await Promise.all([
    sign(dir, ca, 'server', '5e1001', SERVER_EXT),
    sign(dir, ca, 'client', 'c11e01', CLIENT_EXT),
    sign(dir, other, 'other-client', 'ca11e2', CLIENT_EXT),
  ]);
  return {
    dir,
    ca: ca.cert,
    server,
    client,
    otherCa: other.cert,
    otherClient,
    newServer: (name, serial) => sign(dir, ca, name, serial, SERVER_EXT),
  };
}
