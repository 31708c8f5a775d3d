/**
 * The TLS ceiling: `bare.ts` over node:https, with the certificate and key
 * of TLS_CERT_FILE and TLS_KEY_FILE (the proxy's own settings, so both are
 * given the same files), answering as `bare-answer.ts` does. One thread:
 * what node:https alone serves here, handshakes included.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { bareAnswer } from './bare-answer.js';

const server = https.createServer(
  { cert: readFileSync(process.env.TLS_CERT_FILE!), key: readFileSync(process.env.TLS_KEY_FILE!) },
  bareAnswer,
);
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stderr.write(`bare listening on https://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
