/**
 * The ceiling: a bare node:http server answering every request with one
 * fixed body of BODY_BYTES bytes and the same headers as shardcache's 200
 * (`bare-answer.ts`). No routing, no cache, no threads: what one Node thread
 * can serve here.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bareAnswer } from './bare-answer.js';

const server = http.createServer(bareAnswer);
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stderr.write(`bare listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
