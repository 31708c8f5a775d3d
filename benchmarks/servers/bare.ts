/**
 * The ceiling: a bare node:http server answering every request with one
 * fixed body of BODY_BYTES bytes and the same headers as shardcache's 200
 * (Content-Type, Content-Length, Cache-Control, Age, ETag), with fixed values.
 * No routing, no cache, no threads: what one Node thread can serve here.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const size = Number(process.env.BODY_BYTES ?? 100);
const body = Buffer.alloc(size, 0x78);
const length = String(size);
/** Same length as shardcache's (16 hex digits, quoted), so both answers are the same bytes on the wire. */
const ETAG = '"0123456789abcdef"';

const server = http.createServer((_req, res) => {
  res.writeHead(200, [
    'Content-Type',
    'application/octet-stream',
    'Content-Length',
    length,
    'Cache-Control',
    'max-age=300',
    'Age',
    '0',
    'ETag',
    ETAG,
  ]);
  res.end(body);
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stderr.write(`bare listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
