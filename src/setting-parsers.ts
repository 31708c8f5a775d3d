/**
 * How a setting's raw string becomes a checked value: each parser returns the
 * value or throws an Error whose message completes "SETTING=value …", which
 * config.ts turns into the exit-2 start-up error naming the setting.
 */
import { loadCredentials } from './access/credentials.js';
import { parseHostPorts, formatHostPort } from './routing/backend-settings.js';
import { decodeKey } from './routing/key.js';

/** Turns a setting's raw string into its value, or throws an Error saying what is wrong with it. */
export type Parse = (raw: string) => number | string;

/** A whole number from `min` to `max`. */
export function integer(min: number, max: number): Parse {
  return (raw) => {
    if (!/^\d+$/.test(raw)) throw new Error(`must be a whole number from ${min} to ${max}`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`must be from ${min} to ${max}`);
    return n;
  };
}

/** A decimal number from `min` to `max`, e.g. `0.5`. */
export function decimal(min: number, max: number): Parse {
  return (raw) => {
    if (!/^\d+(\.\d+)?$/.test(raw)) throw new Error(`must be a number from ${min} to ${max}, e.g. 1 or 0.5`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`must be from ${min} to ${max}`);
    return n;
  };
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/**
 * Bytes as a whole number, or with a binary suffix as Varnish and nginx take
 * them: `512k`, `256m`, `2g` (also `256mb`, `256MiB`); at most `max`.
 */
export function byteSize(max: number): Parse {
  return (raw) => {
    const m = /^(\d+)\s*([kmgt]?)(?:i?b)?$/i.exec(raw);
    if (m === null) throw new Error('must be a number of bytes, optionally with k, m or g (KiB, MiB, GiB)');
    const n = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
    if (n > max) throw new Error(`must be at most ${max} bytes`);
    return n;
  };
}

/** One of `choices`, case-insensitive (LOG_LEVEL=INFO means info). */
export function oneOf(...choices: string[]): Parse {
  return (raw) => {
    const value = raw.toLowerCase();
    if (!choices.includes(value)) throw new Error(`must be one of ${choices.join(', ')}`);
    return value;
  };
}

/** A port number, or `off` (the listener is not started). */
export function portOrOff(raw: string): number | string {
  if (raw.toLowerCase() === 'off') return 'off';
  return integer(0, 65535)(raw);
}

/** Percent-decoded like a key, so a binary prefix can be given. */
export function keyPrefix(raw: string): string {
  if (/[?#]/.test(raw)) throw new Error('write ? and # as %3F and %23');
  const decoded = decodeKey(`/${raw}`, 65536);
  if (typeof decoded === 'number') throw new Error('malformed percent-encoding (write bytes as %XX)');
  return decoded;
}

export function host(raw: string): string {
  if (raw === '' || /[\s/]/.test(raw)) throw new Error('must be a host name or an IP address');
  return raw;
}

/** `host:port,…`, normalized (no spaces, IPv6 in brackets). */
export function hostPorts(raw: string): string {
  return parseHostPorts(raw).map(formatHostPort).join(',');
}

export function sentinelName(raw: string): string {
  if (!/^[^\s]+$/.test(raw)) throw new Error("must be one word, the name in the sentinels' `sentinel monitor <name>` line");
  return raw;
}

export function redisUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('is not a URL (expected redis://host:port or rediss://host:port)');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new Error(`scheme must be redis:// or rediss://, not ${url.protocol}//`);
  if (url.hostname === '') throw new Error('has no host');
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new Error(`database must be a number, not "${db}"`);
  return raw;
}

/** ACCESS_FILE: a path to a credentials file that loads (src/access/credentials.ts); the error names the problem. */
export function accessFile(raw: string): string {
  loadCredentials(raw);
  return raw;
}

/**
 * CONTENT_TYPES: `suffix=type` pairs separated by commas, e.g.
 * `.json=application/json,.html=text/html; charset=utf-8` (a type may hold
 * `=`: each pair splits at its first one). Returned as given once checked.
 */
export function contentTypes(raw: string): string {
  if (raw === '') return raw;
  for (const pair of raw.split(',')) {
    const at = pair.indexOf('=');
    const suffix = pair.slice(0, at).trim();
    const type = pair.slice(at + 1).trim();
    if (at <= 0 || suffix === '') throw new Error(`must be suffix=type pairs separated by commas; '${pair}' has no suffix`);
    if (!/^[\x21-\x7e][\x20-\x7e]*$/.test(type))
      throw new Error(`'${pair}': the type must be printable ASCII (a Content-Type header value)`);
  }
  return raw;
}
