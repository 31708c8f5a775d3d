/**
 * The RESP ceiling: one Node thread on `node:net` that frames each RESP2
 * array command and answers GET with one fixed 3-byte value and MGET with
 * that value once per key. No cache, no hop, no Redis: what a Node server
 * can answer here at most, the RESP counterpart of `bare.ts`. It exists to
 * tell whether the "≥ 1.0× Redis at pipeline 1" bar is reachable by any
 * Node front at all on this machine.
 *
 * Anything else (redis-benchmark's start-up CONFIG GET) gets an empty array.
 * Malformed input closes the connection: this is a benchmark peer, not a server.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

const VALUE = Buffer.from('$3\r\nxxx\r\n');
const EMPTY = Buffer.from('*0\r\n');
const CR = 13;

/** Reads a decimal number that ends in CRLF at `at`; returns [value, index after LF] or undefined when incomplete. */
function readNumber(buf: Buffer, at: number): [number, number] | undefined {
  let n = 0;
  for (let i = at; i < buf.length; i++) {
    const c = buf[i]!;
    if (c === CR) return i + 1 < buf.length ? [n, i + 2] : undefined;
    n = n * 10 + (c - 48);
  }
  return undefined;
}

function onConnection(socket: net.Socket): void {
  let pending: Buffer | undefined;
  socket.on('data', (chunk: Buffer) => {
    const buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
    const out: Buffer[] = [];
    let at = 0;
    while (at < buf.length) {
      if (buf[at] !== 42 /* '*' */) {
        socket.destroy();
        return;
      }
      const count = readNumber(buf, at + 1);
      if (count === undefined) break;
      let i = count[1];
      let nameLength = 0;
      let complete = true;
      for (let arg = 0; arg < count[0]; arg++) {
        const len = i < buf.length ? readNumber(buf, i + 1) : undefined;
        if (len === undefined || len[1] + len[0] + 2 > buf.length) {
          complete = false;
          break;
        }
        if (arg === 0) nameLength = len[0];
        i = len[1] + len[0] + 2;
      }
      if (!complete) break;
      if (nameLength === 3) out.push(VALUE);
      else if (nameLength === 4) {
        out.push(Buffer.from(`*${count[0] - 1}\r\n`));
        for (let k = 1; k < count[0]; k++) out.push(VALUE);
      } else out.push(EMPTY);
      at = i;
    }
    pending = at < buf.length ? buf.subarray(at) : undefined;
    if (out.length === 1) socket.write(out[0]!);
    else if (out.length > 1) socket.write(Buffer.concat(out));
  });
  socket.on('error', () => socket.destroy());
}

const server = net.createServer({ noDelay: true }, onConnection);
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stderr.write(`resp-bare listening on 127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
