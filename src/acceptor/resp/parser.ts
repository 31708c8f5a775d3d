/**
 * Incremental parser of the commands a Redis client sends: RESP arrays of
 * bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`, what every client library
 * sends) and inline commands (`GET k\r\n`, what telnet and
 * `redis-benchmark`'s inline tests send).
 *
 * Bounded: nothing a client announces is allocated up front, and what is
 * kept between reads is at most one partial argument (or one partial inline
 * line) plus the arguments already parsed of one command, each under a
 * fixed limit. A frame over a limit is a protocol error, as in Redis.
 *
 * Arguments are binary strings (latin1: one char per byte), the form keys
 * take everywhere in the proxy, and are parsed into one reused array, so a
 * command costs its argument strings and nothing else.
 */

/** What `next()` found. */
export const Parse = {
  /** Not enough bytes yet: `feed` more. */
  NeedMore: 0,
  /** `args[0, argc)` hold a complete command. */
  Command: 1,
  /** The input is malformed or over a limit; `error` says why. Stop reading. */
  Error: 2,
} as const;
export type Parse = (typeof Parse)[keyof typeof Parse];

/** Limits on what one command may hold. */
export interface ParserLimits {
  /** Longest bulk string (one argument). */
  maxBulkBytes: number;
  /** Most arguments in one command, the command name included. */
  maxArgs: number;
  /** Most argument bytes in one command, all arguments together. */
  maxCommandBytes: number;
  /** Longest inline command line. */
  maxInlineBytes: number;
}

const CR = 13;
const LF = 10;
const STAR = 42;
const DOLLAR = 36;
/** Longest `*<count>` or `$<length>` line worth waiting for: a sign and 19 digits. */
const MAX_HEADER = 21;
const EMPTY = Buffer.alloc(0);

export class CommandParser {
  /** The arguments of the command `next()` just returned; overwritten by the next call. */
  readonly args: string[] = [];
  /** How many of `args` belong to that command. */
  argc = 0;
  /** Why `next()` returned `Parse.Error` (Redis's wording, without the `-ERR `). */
  error = '';

  readonly #limits: ParserLimits;
  #buf: Buffer = EMPTY;
  #pos = 0;
  /** Arguments still to read of the current array command; 0 between commands. */
  #remaining = 0;
  #commandBytes = 0;

  constructor(limits: ParserLimits) {
    this.#limits = limits;
  }

  /** Bytes received and not yet parsed (a partial command). */
  get buffered(): number {
    return this.#buf.length - this.#pos;
  }

  /** Appends a chunk read from the socket. */
  feed(chunk: Buffer): void {
    // What is left over is at most one partial argument or line (bounded by
    // the limits), so this copy stays small.
    this.#buf = this.#pos < this.#buf.length ? Buffer.concat([this.#buf.subarray(this.#pos), chunk]) : chunk;
    this.#pos = 0;
  }

  /** Parses the next command out of what was fed. */
  next(): Parse {
    for (;;) {
      if (this.#remaining > 0) return this.#readArgs();
      const buf = this.#buf;
      if (this.#pos >= buf.length) return this.#drained();
      if (buf[this.#pos] !== STAR) {
        const inline = this.#readInline();
        // An empty line is no command: Redis skips it too.
        if (inline === Parse.Command && this.argc === 0) continue;
        return inline;
      }
      const count = this.#readHeader();
      if (count === NEED_MORE) return Parse.NeedMore;
      if (count === BAD || count > this.#limits.maxArgs) return this.#fail('Protocol error: invalid multibulk length');
      // `*0` and `*-1` carry no command; Redis skips them.
      if (count <= 0) continue;
      this.#remaining = count;
      this.argc = 0;
      this.#commandBytes = 0;
    }
  }

  #readArgs(): Parse {
    const buf = this.#buf;
    const limits = this.#limits;
    while (this.#remaining > 0) {
      if (this.#pos >= buf.length) return this.#drained();
      if (buf[this.#pos] !== DOLLAR) return this.#fail(`Protocol error: expected '$', got '${printable(buf[this.#pos]!)}'`);
      const start = this.#pos;
      const length = this.#readHeader();
      if (length === NEED_MORE) return Parse.NeedMore;
      if (length === BAD || length < 0 || length > limits.maxBulkBytes) return this.#fail('Protocol error: invalid bulk length');
      const end = this.#pos + length;
      if (end + 2 > buf.length) {
        // Re-read the header with the rest of the argument.
        this.#pos = start;
        return Parse.NeedMore;
      }
      if (buf[end] !== CR || buf[end + 1] !== LF) return this.#fail('Protocol error: bulk string not terminated by CRLF');
      this.#commandBytes += length;
      if (this.#commandBytes > limits.maxCommandBytes) return this.#fail('Protocol error: command too large');
      this.args[this.argc++] = buf.latin1Slice(this.#pos, end);
      this.#pos = end + 2;
      this.#remaining--;
    }
    return Parse.Command;
  }

  /**
   * Reads `<sign><digits>\r\n` after the type byte at `#pos` and moves past
   * it. Returns the number, `NEED_MORE`, or `BAD`.
   */
  #readHeader(): number {
    const buf = this.#buf;
    const from = this.#pos + 1;
    const limit = Math.min(buf.length, from + MAX_HEADER);
    let at = from;
    while (at < limit && buf[at] !== CR) at++;
    if (at === limit) return limit === buf.length ? NEED_MORE : BAD;
    if (at + 1 === buf.length) return NEED_MORE;
    if (buf[at + 1] !== LF) return BAD;
    let i = from;
    const negative = buf[i] === 45; // '-'
    if (negative) i++;
    if (i === at) return BAD;
    let n = 0;
    for (; i < at; i++) {
      const digit = buf[i]! - 48;
      if (digit < 0 || digit > 9) return BAD;
      n = n * 10 + digit;
    }
    this.#pos = at + 2;
    return negative ? -n : n;
  }

  /** An inline command: one line of arguments separated by spaces, quotes as in Redis. */
  #readInline(): Parse {
    const buf = this.#buf;
    const max = this.#limits.maxInlineBytes;
    const nl = buf.indexOf(LF, this.#pos);
    if (nl < 0) return buf.length - this.#pos > max ? this.#fail('Protocol error: too big inline request') : Parse.NeedMore;
    if (nl - this.#pos > max) return this.#fail('Protocol error: too big inline request');
    const end = nl > this.#pos && buf[nl - 1] === CR ? nl - 1 : nl;
    const ok = splitInline(buf, this.#pos, end, this.args, this.#limits.maxArgs);
    this.#pos = nl + 1;
    if (ok < 0)
      return this.#fail(ok === TOO_MANY ? 'Protocol error: invalid multibulk length' : 'Protocol error: unbalanced quotes in request');
    this.argc = ok;
    return Parse.Command;
  }

  /** Everything fed was consumed: drop the reference to the chunk. */
  #drained(): Parse {
    this.#buf = EMPTY;
    this.#pos = 0;
    return Parse.NeedMore;
  }

  #fail(reason: string): Parse {
    this.error = reason;
    this.#remaining = 0;
    this.#buf = EMPTY;
    this.#pos = 0;
    return Parse.Error;
  }
}

const NEED_MORE = -0x7fffffff;
const BAD = -0x7ffffffe;
const UNBALANCED = -1;
const TOO_MANY = -2;

function printable(byte: number): string {
  return byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === CR || byte === LF || byte === 0x0b || byte === 0x0c;
}

function hexValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  const lower = byte | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

const ESCAPES: Record<number, string> = { 110: '\n', 114: '\r', 116: '\t', 98: '\b', 97: '\x07' };

/**
 * Splits `buf[from, to)` into arguments the way Redis's `sdssplitargs`
 * does: spaces separate, `"…"` allows `\n \r \t \b \a \xHH \" \\`, `'…'`
 * allows `\'`, and a closing quote must be followed by a space or the end.
 * Returns the argument count, or `UNBALANCED` / `TOO_MANY`.
 */
function splitInline(buf: Buffer, from: number, to: number, args: string[], maxArgs: number): number {
  let argc = 0;
  let i = from;
  for (;;) {
    while (i < to && isSpace(buf[i]!)) i++;
    if (i === to) return argc;
    if (argc === maxArgs) return TOO_MANY;
    const quote = buf[i] === 34 || buf[i] === 39 ? buf[i]! : 0;
    if (quote === 0) {
      const start = i;
      while (i < to && !isSpace(buf[i]!)) i++;
      args[argc++] = buf.latin1Slice(start, i);
      continue;
    }
    let arg = '';
    i++;
    for (;;) {
      if (i >= to) return UNBALANCED;
      const byte = buf[i]!;
      if (byte === quote) {
        i++;
        if (i < to && !isSpace(buf[i]!)) return UNBALANCED;
        break;
      }
      if (byte === 92 && i + 1 < to) {
        const next = buf[i + 1]!;
        if (quote === 34 && next === 120 && i + 3 < to && hexValue(buf[i + 2]!) >= 0 && hexValue(buf[i + 3]!) >= 0) {
          arg += String.fromCharCode(hexValue(buf[i + 2]!) * 16 + hexValue(buf[i + 3]!));
          i += 4;
          continue;
        }
        if (quote === 34 || next === 39) {
          arg += quote === 34 ? (ESCAPES[next] ?? String.fromCharCode(next)) : "'";
          i += 2;
          continue;
        }
      }
      arg += String.fromCharCode(byte);
      i++;
    }
    args[argc++] = arg;
  }
}
