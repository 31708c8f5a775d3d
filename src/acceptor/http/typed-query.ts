/**
 * The query of an HTTP GET that reads into a hash, list or sorted set:
 * `?field=<f>` (one hash field) or `?start=<i>&stop=<j>` (a range of a list
 * or sorted set, Redis's index rules; a missing bound is 0 or -1). Values
 * are percent-decoded to bytes as keys are (`+` is a plus sign). Other
 * parameters are ignored, as they were before (cache busters). Off the hot
 * path: a GET without a query never comes here. Also the Content-Type of a
 * string by its key's suffix (CONTENT_TYPES).
 */
import { HTTP_VIEWS } from '../../hop/vocabulary.js';
import { decodeKey } from '../../routing/key.js';

/** Redis's integer syntax (`string2ll`): what start and stop must be. */
const INTEGER = /^(0|-?[1-9][0-9]{0,18})$/;

/**
 * The view command for `key` (name, key, arguments: `addCommand`'s layout)
 * the query `url[q + 1…]` asks for; `undefined` when it asks for none (a
 * plain GET), or a string saying why it is refused (400).
 */
export function viewOf(url: string, q: number, key: string, maxBytes: number): string[] | string | undefined {
  let field: string | undefined;
  let start: string | undefined;
  let stop: string | undefined;
  const end = url.indexOf('#', q) < 0 ? url.length : url.indexOf('#', q);
  for (const pair of url.slice(q + 1, end).split('&')) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    if (name !== 'field' && name !== 'start' && name !== 'stop') continue;
    // decodeKey takes a path: a leading '/' makes the value one.
    const value = eq < 0 ? '' : pair.length === eq + 1 ? '' : decodeKey(`/${pair.slice(eq + 1)}`, maxBytes);
    if (typeof value === 'number') return `malformed or too long ${name}= value`;
    if (name === 'field') field = value;
    else if (name === 'start') start = value;
    else stop = value;
  }
  if (field !== undefined && (start !== undefined || stop !== undefined))
    return 'field= reads a hash; start= and stop= a list or a sorted set: not both';
  if (field !== undefined) return [HTTP_VIEWS.Field, key, field];
  if (start === undefined && stop === undefined) return undefined;
  start ??= '0';
  stop ??= '-1';
  if (!INTEGER.test(start) || !INTEGER.test(stop)) return 'start= and stop= must be integers (negative counts from the end)';
  return [HTTP_VIEWS.Range, key, start, stop];
}

/** CONTENT_TYPES as `[suffix, type]` pairs, longest suffix first. */
export function parseContentTypes(setting: string): [suffix: string, type: string][] {
  if (setting === '') return [];
  const pairs = setting.split(',').map((pair): [string, string] => {
    const at = pair.indexOf('=');
    return [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
  });
  return pairs.sort((a, b) => b[0].length - a[0].length);
}

/** The Content-Type for the string at `url`'s key: the first suffix of `types` it ends with, else `fallback`. */
export function contentTypeOf(types: readonly [string, string][], url: string, maxBytes: number, fallback: string): string {
  const key = decodeKey(url, maxBytes);
  if (typeof key === 'number') return fallback;
  for (const [suffix, type] of types) if (key.endsWith(suffix)) return type;
  return fallback;
}
