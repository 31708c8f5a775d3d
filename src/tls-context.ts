/**
 * TLS for every listener (TLS_CERT_FILE, TLS_KEY_FILE, TLS_CA_FILE). The PEM
 * files are read and checked here on the main thread, at start-up and on
 * SIGHUP, and only checked text travels to the acceptor threads: a listener
 * is never handed a file OpenSSL would refuse, so a bad file stops start-up
 * (exit 2) or is ignored on reload, naming the setting either way.
 *
 * Imported by acceptor/ and control/ alike (the data and admin listeners),
 * so it lives below both and imports nothing of ours.
 */
import { createPrivateKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

/** The three settings, as paths; '' when unset (TLS_CA_FILE is optional). */
export interface TlsFiles {
  tlsCertFile: string;
  tlsKeyFile: string;
  tlsCaFile: string;
}

/**
 * What a listener's TLS is built from: the checked PEM text (strings, so that
 * it crosses to a worker thread unchanged) and facts about the certificate
 * for the log and the status page.
 */
export interface TlsMaterial {
  cert: string;
  key: string;
  /** The CA bundle client certificates must chain to; '' when clients need none. */
  ca: string;
  /** Session-ticket keys (48 bytes, hex): made once at start-up and kept on reloads, the same in every acceptor, so that a ticket from one resumes on another. */
  ticketKeys: string;
  /** The certificate's serial number (hex) and expiry, as OpenSSL prints them. */
  serial: string;
  validTo: string;
  /** When the files were read (ms since the epoch). */
  loadedAt: number;
}

/** A TLS file that cannot be used: which setting, which file, and why. */
export class TlsFileError extends Error {
  override name = 'TlsFileError';
  constructor(
    readonly setting: string,
    readonly file: string,
    reason: string,
  ) {
    super(`${setting}=${JSON.stringify(file)}: ${reason}`);
  }
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

function read(setting: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new TlsFileError(setting, file, `cannot read it (${e.code ?? e.message})`);
  }
}

function certificate(setting: string, file: string, pem: string): X509Certificate {
  const first = pem.match(CERT_BLOCK)?.[0];
  try {
    if (first !== undefined) return new X509Certificate(first);
  } catch {
    // Reported below, as for a file without a certificate at all.
  }
  throw new TlsFileError(setting, file, 'holds no PEM certificate (-----BEGIN CERTIFICATE----- …)');
}

function privateKey(file: string, pem: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    // OpenSSL's own words for a missing passphrase vary ("interrupted or cancelled"); the PEM header does not.
    const encrypted = /^-----BEGIN ENCRYPTED PRIVATE KEY-----|^Proc-Type: 4,ENCRYPTED/m.test(pem);
    throw new TlsFileError(
      'TLS_KEY_FILE',
      file,
      encrypted
        ? 'the key is encrypted; give it unencrypted (openssl pkey -in key.pem -out plain.pem) and keep the file readable only by the proxy'
        : 'holds no PEM private key (-----BEGIN PRIVATE KEY----- …)',
    );
  }
}

/**
 * Reads and checks the files: each one readable and PEM, the key the
 * certificate's, every block of the CA bundle a certificate, and the whole
 * accepted by OpenSSL. Throws `TlsFileError` naming the first bad setting.
 * `ticketKeys`: those in use (a reload); new ones when absent (start-up).
 */
export function loadTls(files: TlsFiles, ticketKeys = randomBytes(48).toString('hex')): TlsMaterial {
  const cert = read('TLS_CERT_FILE', files.tlsCertFile);
  const key = read('TLS_KEY_FILE', files.tlsKeyFile);
  const ca = files.tlsCaFile === '' ? '' : read('TLS_CA_FILE', files.tlsCaFile);
  const x509 = certificate('TLS_CERT_FILE', files.tlsCertFile, cert);
  if (!x509.checkPrivateKey(privateKey(files.tlsKeyFile, key)))
    throw new TlsFileError('TLS_KEY_FILE', files.tlsKeyFile, `is not the key of the certificate in TLS_CERT_FILE (${files.tlsCertFile})`);
  // Every block of the bundle, so that a damaged second CA is not silently dropped.
  if (ca !== '') for (const block of ca.match(CERT_BLOCK) ?? ['']) certificate('TLS_CA_FILE', files.tlsCaFile, block);
  const material: TlsMaterial = {
    cert,
    key,
    ca,
    ticketKeys,
    serial: x509.serialNumber,
    validTo: x509.validTo,
    loadedAt: Date.now(),
  };
  try {
    // What is left for OpenSSL to refuse: a key too weak for its security level, say.
    tls.createSecureContext(secureContextOptions(material));
  } catch (err) {
    throw new TlsFileError('TLS_CERT_FILE', files.tlsCertFile, `refused by OpenSSL: ${(err as Error).message}`);
  }
  return material;
}

/** The context part of a listener's options, as `setSecureContext` takes it too. */
export function secureContextOptions(m: TlsMaterial): tls.SecureContextOptions {
  const options: tls.SecureContextOptions = {
    cert: m.cert,
    key: m.key,
    ticketKeys: Buffer.from(m.ticketKeys, 'hex'),
    // Node's default derives it from process.argv, which differs between the
    // main thread and a worker: a session from one acceptor would not resume
    // on another.
    sessionIdContext: 'shardcache',
  };
  if (m.ca !== '') options.ca = m.ca;
  return options;
}

/**
 * A listener's TLS options: the context, and with a CA bundle, mutual TLS
 * (a client without a certificate signed by it fails the handshake).
 */
export function serverTlsOptions(m: TlsMaterial): tls.TlsOptions {
  const options: tls.TlsOptions = secureContextOptions(m);
  if (m.ca !== '') {
    options.requestCert = true;
    options.rejectUnauthorized = true;
  }
  return options;
}

/**
 * Puts `m` into a listening server: new handshakes use it, connections
 * already open keep the context they shook hands with.
 */
export function reloadServer(server: tls.Server, m: TlsMaterial): void {
  server.setSecureContext(secureContextOptions(m));
}

/** One line for the log: which certificate is served and until when. */
export function describeTls(m: TlsMaterial): string {
  return `certificate serial ${m.serial}, valid until ${m.validTo}${m.ca === '' ? '' : ', client certificates required (TLS_CA_FILE)'}`;
}
