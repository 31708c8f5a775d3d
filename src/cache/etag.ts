/**
 * Strong entity tags for cached values. A tag is computed once, when a value
 * enters the cache, and kept as two 32-bit words beside it; requests never
 * hash. It is written out as a quoted hex string only into a reply.
 *
 * The hash is cyrb64 (bryc's public-domain cyrb53 with both 32-bit lanes
 * kept): two multiply-xor lanes over the bytes, then a cross-mixing
 * finaliser. It is not cryptographic and need not be: a tag only has to
 * change when the value of one key changes, and two different values of a
 * key share a 64-bit tag with odds of 2^-64. It runs in JavaScript at about a
 * byte per nanosecond, with no call into native code for small values.
 */

/** Bytes of a tag as sent: `"` + 16 hex digits + `"`. */
export const ETAG_BYTES = 18;

/** The two words of the last `etagWords` call: [high, low]. */
export const etagOut = new Int32Array(2);

/** Hashes `value` into `etagOut` (high word first); allocates nothing. */
export function etagWords(value: Uint8Array): void {
  let h1 = 0xdeadbeef ^ value.length;
  let h2 = 0x41c6ce57 ^ value.length;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  etagOut[0] = h2;
  etagOut[1] = h1;
}

const HEX = Buffer.from('0123456789abcdef', 'latin1');
const QUOTE = 0x22;

/** Writes the quoted tag of the words `high`, `low` into `target` at `offset` (ETAG_BYTES bytes). */
export function writeEtag(target: Uint8Array, offset: number, high: number, low: number): void {
  target[offset] = QUOTE;
  for (let i = 0; i < 8; i++) {
    target[offset + 1 + i] = HEX[(high >>> (28 - 4 * i)) & 15]!;
    target[offset + 9 + i] = HEX[(low >>> (28 - 4 * i)) & 15]!;
  }
  target[offset + 17] = QUOTE;
}

/** The quoted ETag of `value`, as latin1 bytes. */
export function etagOf(value: Uint8Array): Buffer {
  etagWords(value);
  const out = Buffer.allocUnsafe(ETAG_BYTES);
  writeEtag(out, 0, etagOut[0]!, etagOut[1]!);
  return out;
}
