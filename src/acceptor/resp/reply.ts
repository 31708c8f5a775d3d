/**
 * Reply encoding for the replies that are not values: status lines, errors,
 * integers, short bulk strings and arrays and maps of them, in RESP2 or
 * RESP3. Values fetched through the shards are framed in `connection.ts`
 * without going through here, so their bytes are never turned into strings.
 */

/**
 * A reply element: a string is a bulk string (binary, latin1), `null` the
 * null bulk. A `{ map }` is a RESP3 map of its flat key, value list (in RESP2
 * that flat array), a `{ verbatim }` a RESP3 verbatim `txt` string (in RESP2
 * a bulk string): the two types Redis 7 answers HELLO, CONFIG GET and INFO in.
 */
export type Item = string | number | null | Item[] | { readonly map: Item[] } | { readonly verbatim: string };

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

/** Encodes `item` in RESP2, or in RESP3 when `resp3` (only nulls, maps and verbatim strings differ). */
export function encode(item: Item, resp3 = false): Buffer {
  return Buffer.from(encodeText(item, resp3), 'latin1');
}

function encodeText(item: Item, resp3: boolean): string {
  if (item === null) return resp3 ? '_\r\n' : '$-1\r\n';
  if (typeof item === 'number') return `:${item}\r\n`;
  if (typeof item === 'string') return `$${item.length}\r\n${item}\r\n`;
  if (Array.isArray(item)) return `*${item.length}\r\n${item.map((i) => encodeText(i, resp3)).join('')}`;
  if ('verbatim' in item) return resp3 ? `=${item.verbatim.length + 4}\r\ntxt:${item.verbatim}\r\n` : encodeText(item.verbatim, false);
  const body = item.map.map((i) => encodeText(i, resp3)).join('');
  return resp3 ? `%${item.map.length >>> 1}\r\n${body}` : `*${item.map.length}\r\n${body}`;
}

/** `*<n>\r\n`, cached for the small counts MGET usually has. */
export function arrayHeader(n: number): Buffer {
  return n < ARRAY_HEADERS.length ? ARRAY_HEADERS[n]! : Buffer.from(`*${n}\r\n`, 'latin1');
}

const ARRAY_HEADERS = Array.from({ length: 64 }, (_, n) => Buffer.from(`*${n}\r\n`, 'latin1'));

export const OK = status('OK');
export const PONG = status('PONG');
export const NULL_BULK = Buffer.from('$-1\r\n', 'latin1');
/** RESP3's null, which replaces both of RESP2's (the null bulk and the null array). */
export const NULL3 = Buffer.from('_\r\n', 'latin1');

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
