/**
 * The answer of the bare ceilings (`bare.ts` over node:http, `bare-https.ts`
 * over node:https): one fixed body of BODY_BYTES bytes with the same headers
 * as shardcache's 200 (Content-Type, Content-Length, Cache-Control, Age,
 * ETag), with fixed values, whatever was asked.
 */
import type http from 'node:http';

const size = Number(process.env.BODY_BYTES ?? 100);
const body = Buffer.alloc(size, 0x78);
const length = String(size);
/** Same length as shardcache's (16 hex digits, quoted), so both answers are the same bytes on the wire. */
const ETAG = '"0123456789abcdef"';

/** The request listener of a bare ceiling. */
export function bareAnswer(_req: http.IncomingMessage, res: http.ServerResponse): void {
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
}
