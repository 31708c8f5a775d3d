/** Raw RESP over TCP for black-box tests: exact bytes in, exact replies out. */
import net from 'node:net';

/**
 * A decoded reply: status and bulk strings as strings (latin1), errors as
 * `{ error }`, null bulk as `null`. RESP3: `_` is `null` too, a double a
 * number, a boolean a boolean, a map `{ map }` (its flat key, value list), a
 * set `{ set }`, a verbatim string `{ verbatim }` (its text after `txt:`).
 */
export type Reply =
  | string
  | number
  | boolean
  | null
  | { error: string }
  | { map: Reply[] }
  | { set: Reply[] }
  | { verbatim: string }
  | Reply[];

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

/** The bytes of each complete reply in `data`, to compare two servers' replies byte for byte. */
export function rawReplies(data: Buffer): string[] {
  const out: string[] = [];
  const at = { pos: 0 };
  for (;;) {
    const start = at.pos;
    if (decodeOne(data, at) === undefined) return out;
    out.push(data.latin1Slice(start, at.pos));
  }
}

/** Sends `commands` to `port` in one write and returns the bytes of each reply (`rawReplies`). */
export async function sendAll(port: number, commands: (string | Buffer)[][], timeoutMs = 10000): Promise<string[]> {
  const { data } = await exchange(port, Buffer.concat(commands.map((c) => command(...c))), { replies: commands.length, timeoutMs });
  return rawReplies(data);
}

/** Redis's HELLO reply with the proxy's server name, version and connection `id` in place of Redis's: the rest is Redis's, copied. */
export function helloAsShardcache(hello: string, id: number): string {
  return hello
    .replace(/\$5\r\nredis\r\n\$7\r\nversion\r\n\$\d+\r\n[^\r]*\r\n/g, '$10\r\nshardcache\r\n$7\r\nversion\r\n$5\r\n0.1.0\r\n')
    .replace(/\$2\r\nid\r\n:\d+\r\n/g, `$2\r\nid\r\n:${id}\r\n`);
}

/**
 * Sends `commands` on one connection to Redis (`redisPort`) and on one to
 * the proxy, and returns the proxy's replies (bytes) and where they differ
 * from Redis's, HELLO's server, version and id set aside (`helloAsShardcache`).
 */
export async function againstRedis(
  redisPort: number,
  proxyPort: number,
  commands: string[][],
): Promise<{ replies: string[]; differ: string[] }> {
  const fromRedis = await sendAll(redisPort, [['CLIENT', 'ID'], ...commands], 20000);
  const fromProxy = await sendAll(proxyPort, [['CLIENT', 'ID'], ...commands], 20000);
  const id = Number(/^:(\d+)/.exec(fromProxy[0] ?? '')?.[1]);
  const differ = fromProxy.length === fromRedis.length ? [] : [`${fromProxy.length} replies, Redis ${fromRedis.length}`];
  commands.forEach((c, i) => {
    const expected = helloAsShardcache(fromRedis[i + 1] ?? '', id);
    if (fromProxy[i + 1] !== expected)
      differ.push(`${JSON.stringify(c)}: ${JSON.stringify(fromProxy[i + 1])} ≠ ${JSON.stringify(expected)}`);
  });
  return { replies: fromProxy.slice(1), differ };
}

function decodeOne(data: Buffer, at: { pos: number }): Reply | undefined {
  const eol = data.indexOf('\r\n', at.pos);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(data[at.pos]!);
  const line = data.latin1Slice(at.pos + 1, eol);
  at.pos = eol + 2;
  if (type === '+') return line;
  if (type === '-') return { error: line };
  if (type === ':' || type === ',') return Number(line);
  if (type === '_') return null;
  if (type === '#') return line === 't';
  const n = Number(line);
  if (type === '$' || type === '=') {
    if (n < 0) return null;
    if (at.pos + n + 2 > data.length) return undefined;
    const value = data.latin1Slice(at.pos, at.pos + n);
    at.pos += n + 2;
    return type === '$' ? value : { verbatim: value.slice(4) };
  }
  if (type !== '*' && type !== '%' && type !== '~')
    throw new Error(`not a RESP reply: ${JSON.stringify(data.latin1Slice(at.pos - line.length - 3, eol))}`);
  const items: Reply[] = [];
  for (let i = 0; i < (type === '%' ? 2 * n : n); i++) {
    const item = decodeOne(data, at);
    if (item === undefined) return undefined;
    items.push(item);
  }
  return type === '*' ? items : type === '%' ? { map: items } : { set: items };
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

/**
 * One connection that sends commands pipelined and hands back each reply's
 * exact bytes, for comparing two servers byte for byte over many batches.
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
      this.#buffered = Buffer.concat([this.#buffered, chunk]);
      let used = 0;
      for (const r of rawReplies(this.#buffered)) {
        this.#got.push(Buffer.from(r, 'latin1'));
        used += r.length;
      }
      this.#buffered = this.#buffered.subarray(used);
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
