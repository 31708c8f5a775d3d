/**
 * The JSON of a typed value over HTTP (`http-views.ts`), written as bytes
 * into one reused buffer. A string that is valid UTF-8 is a JSON string
 * (its bytes copied, `"`, `\` and control characters escaped); one that is
 * not becomes `{"base64":"…"}` in a value position, and `"base64:…"` as an
 * object key (a hash field name), so no byte is lost or guessed at.
 */
import { ByteWriter } from './byte-writer.js';
import { isUtf8 } from 'node:buffer';

const HEX = '0123456789abcdef';

/** See the file comment. */
export class JsonWriter extends ByteWriter {
  reset(): this {
    this.length = 0;
    return this;
  }

  /** The JSON as a view (tests). */
  get bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  /** One ASCII byte (punctuation), without a native call. */
  byte(c: number): void {
    if (this.length >= this.buf.length) this.room(1);
    this.buf[this.length++] = c;
  }

  /** A number or a short ASCII run, written as it is. */
  raw(s: string): void {
    this.room(s.length);
    this.length += this.buf.latin1Write(s, this.length);
  }

  /** The bytes `src[start, end)` as a JSON value: a string, or `{"base64":…}` when they are not UTF-8. */
  string(src: Buffer, start: number, end: number): void {
    const mark = this.length;
    if (this.#quoted(src, start, end)) return;
    this.length = mark;
    this.raw('{"base64":"');
    this.#base64(src, start, end);
    this.raw('"}');
  }

  /** The bytes `src[start, end)` as an object key: a string, `"base64:…"` when they are not UTF-8. */
  key(src: Buffer, start: number, end: number): void {
    const mark = this.length;
    if (this.#quoted(src, start, end)) return;
    this.length = mark;
    this.raw('"base64:');
    this.#base64(src, start, end);
    this.raw('"');
  }

  #base64(src: Buffer, start: number, end: number): void {
    this.room(Math.ceil((end - start) / 3) * 4);
    this.length += this.buf.latin1Write(src.subarray(start, end).toString('base64'), this.length);
  }

  /**
   * Writes `src[start, end)` quoted and escaped in one pass; false (the
   * caller rewinds) when it held bytes above ASCII that are not UTF-8, which
   * `isUtf8` is asked only then.
   */
  #quoted(src: Buffer, start: number, end: number): boolean {
    // At most 6 bytes per byte (\u00XX), and the quotes.
    this.room(6 * (end - start) + 2);
    const b = this.buf;
    let at = this.length;
    let high = false;
    b[at++] = 0x22;
    for (let i = start; i < end; i++) {
      const c = src[i]!;
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c) {
        b[at++] = c;
        if (c >= 0x80) high = true;
      } else if (c >= 0x20) {
        b[at++] = 0x5c;
        b[at++] = c;
      } else {
        b[at++] = 0x5c;
        b[at++] = 0x75;
        b[at++] = 0x30;
        b[at++] = 0x30;
        b[at++] = HEX.charCodeAt(c >> 4);
        b[at++] = HEX.charCodeAt(c & 15);
      }
    }
    b[at++] = 0x22;
    if (high && !isUtf8(src.subarray(start, end))) return false;
    this.length = at;
    return true;
  }
}
