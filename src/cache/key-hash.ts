/**
 * The 32-bit hash of a cache key, the same whether the key is read from
 * bytes (a request batch, the store's own copy) or from a latin1 string (one
 * char per byte, as invalidations and fetches name keys): FNV-1a over the
 * bytes, then murmur3's finaliser so that the low bits, which pick a slot of
 * the index, depend on every byte.
 */

/** Hash of `bytes[offset, offset + length)`. */
export function hashBytes(bytes: Uint8Array, offset: number, length: number): number {
  let h = 0x811c9dc5;
  for (let i = offset, end = offset + length; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return mix(h);
}

/** Hash of a latin1 string's bytes: `hashString(s) === hashBytes(Buffer.from(s, 'latin1'), 0, s.length)`. */
export function hashString(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ (key.charCodeAt(i) & 0xff), 0x01000193);
  return mix(h);
}

/** murmur3's 32-bit finaliser: every input bit flips about half of the output bits. */
export function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}
