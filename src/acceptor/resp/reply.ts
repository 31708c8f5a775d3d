/**
 * RESP2 reply encoding for the replies that are not values: status lines,
 * errors, integers, short bulk strings and arrays of them. Values fetched
 * through the shards are framed in `connection.ts` without going through
 * here, so their bytes are never turned into strings.
 */

/** A reply element: a string is a bulk string (binary, latin1), `null` the null bulk. */
export type Item = string | number | null | Item[];

/** `+<line>\r\n` */
export function status(line: string): Buffer {
  return Buffer.from(`+${line}\r\n`, 'latin1');
}

/**
 * `-<message>\r\n`. A message holding CR or LF would end the line early and
 * desynchronise the client, so they become spaces (as Redis does).
 */
export function error(message: string): Buffer {
  return Buffer.from(`-${message.replace(/[\r\n]/g, ' ')}\r\n`, 'latin1');
}

/** Encodes `item` as a bulk string, integer, null or array. */
export function encode(item: Item): Buffer {
  return Buffer.from(encodeText(item), 'latin1');
}

function encodeText(item: Item): string {
  if (item === null) return '$-1\r\n';
  if (typeof item === 'number') return `:${item}\r\n`;
  if (typeof item === 'string') return `$${item.length}\r\n${item}\r\n`;
  return `*${item.length}\r\n${item.map(encodeText).join('')}`;
}

/** `*<n>\r\n`, cached for the small counts MGET usually has. */
export function arrayHeader(n: number): Buffer {
  return n < ARRAY_HEADERS.length ? ARRAY_HEADERS[n]! : Buffer.from(`*${n}\r\n`, 'latin1');
}

const ARRAY_HEADERS = Array.from({ length: 64 }, (_, n) => Buffer.from(`*${n}\r\n`, 'latin1'));

export const OK = status('OK');
export const PONG = status('PONG');
export const NULL_BULK = Buffer.from('$-1\r\n', 'latin1');

/** Length of `$<n>\r\n`. */
export function bulkHeaderBytes(n: number): number {
  let digits = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    digits++;
  }
  return digits + 3;
}

/** Writes `$<n>\r\n` at `at` without making a string of `n`; returns the offset after it. */
export function writeBulkHeader(out: Buffer, at: number, n: number): number {
  const length = bulkHeaderBytes(n);
  out[at] = 36; // '$'
  let digit = at + length - 3;
  do {
    out[digit--] = 48 + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
  out[at + length - 2] = 13;
  out[at + length - 1] = 10;
  return at + length;
}
