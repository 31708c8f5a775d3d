/** Raw RESP over TCP for black-box tests: exact bytes in, exact replies out. */
import net from 'node:net';

/** A decoded reply: status and bulk strings as strings (latin1), errors as `{ error }`, null bulk as `null`. */
export type Reply = string | number | null | { error: string } | Reply[];

export interface Exchange {
  /** Every byte received. */
  data: Buffer;
  /** Whether the server closed the connection. */
  closed: boolean;
}

/**
 * Connects to `port`, writes `data` in one write, and collects what comes
 * back until the server closes, `replies` complete replies or `bytes` bytes
 * arrived, or `timeoutMs` passed. `halfClose` ends our side after writing,
 * as `printf … | nc` does; `readDelayMs` reads nothing for that long.
 */
export function exchange(
  port: number,
  data: string | Buffer,
  options: { replies?: number; bytes?: number; timeoutMs?: number; halfClose?: boolean; readDelayMs?: number } = {},
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    let closed = false;
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: Buffer.concat(chunks), closed });
    };
    const timer = setTimeout(done, options.timeoutMs ?? 5000);
    socket.once('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? undefined : reject(err)));
    socket.once('connect', () => {
      if (options.readDelayMs) {
        socket.pause();
        setTimeout(() => socket.resume(), options.readDelayMs);
      }
      if (options.halfClose) socket.end(data);
      else socket.write(data);
    });
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (options.bytes !== undefined && received >= options.bytes) done();
      if (options.replies !== undefined && decodeAll(Buffer.concat(chunks)).length >= options.replies) done();
    });
    socket.once('close', () => {
      closed = true;
      done();
    });
  });
}

/** Decodes every complete reply in `data`. */
export function decodeAll(data: Buffer): Reply[] {
  const out: Reply[] = [];
  const at = { pos: 0 };
  for (;;) {
    const start = at.pos;
    const reply = decodeOne(data, at);
    if (reply === undefined) {
      at.pos = start;
      return out;
    }
    out.push(reply);
  }
}

/** Splits the complete replies at the start of `data` into their exact bytes; returns them and the bytes left over. */
export function splitReplies(data: Buffer): { replies: Buffer[]; rest: Buffer } {
  const replies: Buffer[] = [];
  const at = { pos: 0 };
  for (;;) {
    const start = at.pos;
    if (decodeOne(data, at) === undefined) return { replies, rest: data.subarray(start) };
    replies.push(data.subarray(start, at.pos));
  }
}

/**
 * One connection that sends commands pipelined and hands back each reply's
 * exact bytes, for comparing two servers byte for byte. RESP2 and the RESP3
 * types `decodeOne` knows.
 */
export class RespPipe {
  readonly #socket: net.Socket;
  #buffered = Buffer.alloc(0);
  #want = 0;
  #got: Buffer[] = [];
  #done: ((replies: Buffer[]) => void) | undefined;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      const { replies, rest } = splitReplies(Buffer.concat([this.#buffered, chunk]));
      this.#buffered = Buffer.from(rest);
      // Copies: the chunk's memory is not ours to keep.
      for (const r of replies) this.#got.push(Buffer.from(r));
      if (this.#got.length >= this.#want && this.#done) this.#done(this.#got.splice(0, this.#want));
    });
  }

  static open(port: number): Promise<RespPipe> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' }, () => resolve(new RespPipe(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends `commands` in one write; resolves with their replies' bytes, in order. */
  send(commands: Buffer[]): Promise<Buffer[]> {
    return new Promise((resolve) => {
      this.#want = commands.length;
      this.#done = resolve;
      this.#socket.write(Buffer.concat(commands));
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}

function decodeOne(data: Buffer, at: { pos: number }): Reply | undefined {
  const eol = data.indexOf('\r\n', at.pos);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(data[at.pos]!);
  const line = data.latin1Slice(at.pos + 1, eol);
  at.pos = eol + 2;
  if (type === '+') return line;
  if (type === '-') return { error: line };
  if (type === ':') return Number(line);
  // RESP3: null, double, boolean.
  if (type === '_') return null;
  if (type === ',') return line;
  if (type === '#') return line === 't' ? 1 : 0;
  const n = Number(line);
  if (type === '%') return decodeItems(data, at, 2 * n);
  if (type === '~' || type === '>') return decodeItems(data, at, n);
  if (type === '$') {
    if (n < 0) return null;
    if (at.pos + n + 2 > data.length) return undefined;
    const value = data.latin1Slice(at.pos, at.pos + n);
    at.pos += n + 2;
    return value;
  }
  if (type !== '*') throw new Error(`not a RESP reply: ${JSON.stringify(data.latin1Slice(at.pos - line.length - 3, eol))}`);
  if (n < 0) return null;
  return decodeItems(data, at, n);
}

function decodeItems(data: Buffer, at: { pos: number }, n: number): Reply[] | undefined {
  const items: Reply[] = [];
  for (let i = 0; i < n; i++) {
    const item = decodeOne(data, at);
    if (item === undefined) return undefined;
    items.push(item);
  }
  return items;
}

/** A command as a RESP array of bulk strings, as client libraries send it. */
export function command(...args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg, 'latin1') : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}
