/**
 * One reused, growing buffer that a reply is written into before it is
 * copied once into the reply batch: the base of the RESP writer
 * (`reply-writer.ts`) and the JSON writer (`json-writer.ts`).
 */

/** A buffer written from the start on each reply, doubled when a write needs more room. */
export class ByteWriter {
  /** The bytes; valid up to `length`. */
  buf: Buffer = Buffer.allocUnsafe(4096);
  /** Bytes written so far. */
  length = 0;

  /** Makes room for `bytes` more after `length`, keeping what is written. */
  protected room(bytes: number): void {
    if (this.length + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + bytes) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }
}
