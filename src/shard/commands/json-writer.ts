/**
 * The JSON of a typed value over HTTP (`http-views.ts`), written as bytes
 * into one reused buffer. A string that is valid UTF-8 is a JSON string
 * (its bytes copied, `"`, `\` and control characters escaped); one that is
 * not becomes `{"base64":"…"}` in a value position, and `"base64:…"` as an
 * object key (a hash field name), so no byte is lost or guessed at.
 */
import { isUtf8 } from 'node:buffer';

const HEX = '0123456789abcdef';

/** Whether `src[start, end)` is UTF-8: ASCII (most fields) is told by a loop, without the view `isUtf8` needs. */
function utf8(src: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (src[i]! >= 0x80) return isUtf8(src.subarray(start, end));
  return true;
}

/** See the file comment. */
export class JsonWriter {
  buf: Buffer = Buffer.allocUnsafe(4096);
  length = 0;

  reset(): this {
    this.length = 0;
    return this;
  }

  /** The JSON as a view (tests). */
  get bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  /** Punctuation or a number: ASCII written as it is. */
  raw(s: string): void {
    this.#room(s.length);
    this.length += this.buf.latin1Write(s, this.length);
  }

  /** The bytes `src[start, end)` as a JSON value: a string, or `{"base64":…}` when they are not UTF-8. */
  string(src: Buffer, start: number, end: number): void {
    if (utf8(src, start, end)) return this.#quoted(src, start, end);
    this.raw('{"base64":"');
    this.#base64(src, start, end);
    this.raw('"}');
  }

  /** The bytes `src[start, end)` as an object key: a string, `"base64:…"` when they are not UTF-8. */
  key(src: Buffer, start: number, end: number): void {
    if (utf8(src, start, end)) return this.#quoted(src, start, end);
    this.raw('"base64:');
    this.#base64(src, start, end);
    this.raw('"');
  }

  #base64(src: Buffer, start: number, end: number): void {
    this.#room(Math.ceil((end - start) / 3) * 4);
    this.length += this.buf.latin1Write(src.subarray(start, end).toString('base64'), this.length);
  }

  #quoted(src: Buffer, start: number, end: number): void {
    // At most 6 bytes per byte (\u00XX), and the quotes.
    this.#room(6 * (end - start) + 2);
    const b = this.buf;
    let at = this.length;
    b[at++] = 0x22;
    for (let i = start; i < end; i++) {
      const c = src[i]!;
      if (c === 0x22 || c === 0x5c) {
        b[at++] = 0x5c;
        b[at++] = c;
      } else if (c < 0x20) {
        at += b.latin1Write(`\\u00${HEX[c >> 4]}${HEX[c & 15]}`, at);
      } else {
        b[at++] = c;
      }
    }
    b[at++] = 0x22;
    this.length = at;
  }

  #room(bytes: number): void {
    if (this.length + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + bytes) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }
}
