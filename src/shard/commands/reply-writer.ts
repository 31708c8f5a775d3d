/**
 * Where a typed command writes its reply: the RESP bytes, built in one
 * reused buffer and copied once into the reply batch. One writer speaks
 * both protocols: the commands write reply *shapes* (a map, a set, a
 * double, a null) and `resp3` decides their framing, so RESP2 and RESP3
 * differ only here, as in Redis's own `addReplyMapLen` and friends:
 *
 * | shape | RESP2 | RESP3 |
 * | --- | --- | --- |
 * | map of n pairs | `*2n` | `%n` |
 * | set of n | `*n` | `~n` |
 * | double | bulk string | `,` line |
 * | null | `$-1` | `_` |
 * | (member, score) pair | flat | `*2` |
 */
import { ByteWriter } from './byte-writer.js';

const CRLF = 0x0a0d;

/** See the file comment. */
export class ReplyWriter extends ByteWriter {
  /** Frame the shapes as RESP3. */
  resp3 = false;

  /** Starts a reply. */
  reset(resp3: boolean): this {
    this.length = 0;
    this.resp3 = resp3;
    return this;
  }

  /** The reply as a view (tests). */
  get bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  /** A bulk string of `src[start, end)`. */
  bulk(src: Buffer, start: number, end: number): void {
    this.#line(36, end - start);
    this.room(end - start + 2);
    if (end - start > 64) src.copy(this.buf, this.length, start, end);
    else for (let i = start; i < end; i++) this.buf[this.length + i - start] = src[i]!;
    this.length += end - start;
    this.#crlf();
  }

  /** A bulk string of the binary string `s`. */
  text(s: string): void {
    this.#line(36, s.length);
    this.room(s.length + 2);
    this.length += this.buf.latin1Write(s, this.length);
    this.#crlf();
  }

  integer(n: number): void {
    this.#line(58, n);
  }

  /** The null reply: a null bulk in RESP2, `_` in RESP3. */
  nil(): void {
    this.#ascii(this.resp3 ? '_\r\n' : '$-1\r\n');
  }

  array(n: number): void {
    this.#line(42, n);
  }

  /** A map of `n` pairs: in RESP2 an array of 2n. */
  map(n: number): void {
    if (this.resp3) this.#line(37, n);
    else this.#line(42, 2 * n);
  }

  /** A set of `n`: in RESP2 an array. */
  set(n: number): void {
    this.#line(this.resp3 ? 126 : 42, n);
  }

  /** Opens a (member, score) pair: an array of 2 in RESP3, nothing in RESP2 (the pairs are flat). */
  pair(): void {
    if (this.resp3) this.#ascii('*2\r\n');
  }

  /** A double whose text (Redis's `%.17g`, `inf`, `-inf`) is `src[start, end)`: a bulk string in RESP2. */
  double(src: Buffer, start: number, end: number): void {
    if (!this.resp3) return this.bulk(src, start, end);
    this.room(end - start + 3);
    this.buf[this.length++] = 44;
    this.length += src.copy(this.buf, this.length, start, end);
    this.#crlf();
  }

  status(line: string): void {
    this.#ascii(`+${line}\r\n`);
  }

  error(message: string): void {
    this.#ascii(`-${message}\r\n`);
  }

  /** `<type><n>\r\n`, the digits written without making a string. */
  #line(type: number, n: number): void {
    this.room(24);
    const b = this.buf;
    let at = this.length;
    b[at++] = type;
    if (n < 0) {
      b[at++] = 45;
      n = -n;
    }
    let digits = 1;
    for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
    for (let d = at + digits - 1; d >= at; d--, n = Math.floor(n / 10)) b[d] = 48 + (n % 10);
    at += digits;
    b[at++] = 13;
    b[at++] = 10;
    this.length = at;
  }

  #ascii(s: string): void {
    this.room(s.length);
    this.length += this.buf.latin1Write(s, this.length);
  }

  #crlf(): void {
    this.buf.writeUInt16LE(CRLF, this.length);
    this.length += 2;
  }
}
