/**
 * Request target → cache key.
 *
 * A key is the path after the first `/`, percent-decoded to bytes and held
 * as a binary string (one char per byte, the `latin1` view), so any byte
 * sequence is a key and no UTF-8 round trip can alter it. The query string
 * and a fragment are not part of the key; a literal `?` or `#` in a key is
 * sent as `%3F` / `%23`. `+` is a plus sign, not a space (this is a path,
 * not a form). Node's parser already refuses raw bytes above 0x7E in the
 * request line, so every char seen here is ASCII.
 */

/** `decodeKey` results that are not keys: why the request is refused. */
export const KeyError = {
  NotOriginForm: 0,
  Empty: 1,
  BadEscape: 2,
  TooLong: 3,
} as const;
/** One of the `KeyError` codes. */
export type KeyError = (typeof KeyError)[keyof typeof KeyError];

const SLASH = 0x2f;
const PERCENT = 0x25;
const QUESTION = 0x3f;
const HASH = 0x23;

let scratch = Buffer.allocUnsafeSlow(1024);

/**
 * Decodes the key from a request target such as `/user%3A42?x=1`. Returns the
 * key as a binary string, or a `KeyError` code (a number) when the target
 * cannot name a key of at most `maxBytes` bytes.
 */
export function decodeKey(target: string, maxBytes: number): string | KeyError {
  if (target.charCodeAt(0) !== SLASH) return KeyError.NotOriginForm;
  let end = target.length;
  let escapes = false;
  for (let i = 1; i < end; i++) {
    const c = target.charCodeAt(i);
    if (c === QUESTION || c === HASH) end = i;
    else if (c === PERCENT) escapes = true;
  }
  if (end === 1) return KeyError.Empty;
  if (!escapes) return end - 1 > maxBytes ? KeyError.TooLong : target.slice(1, end);
  return unescapeKey(target, end, maxBytes);
}

function unescapeKey(target: string, end: number, maxBytes: number): string | KeyError {
  // Decoding never lengthens the key, so `end` bytes of scratch are enough.
  if (scratch.length < end) scratch = Buffer.allocUnsafeSlow(Math.max(end, scratch.length * 2));
  let n = 0;
  for (let i = 1; i < end; i++) {
    let c = target.charCodeAt(i);
    if (c === PERCENT) {
      const hi = i + 2 < end ? hexValue(target.charCodeAt(i + 1)) : -1;
      const lo = hi < 0 ? -1 : hexValue(target.charCodeAt(i + 2));
      if (lo < 0) return KeyError.BadEscape;
      c = (hi << 4) | lo;
      i += 2;
    }
    scratch[n++] = c;
  }
  if (n > maxBytes) return KeyError.TooLong;
  return scratch.latin1Slice(0, n);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}
