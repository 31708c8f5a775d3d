/**
 * The HTTP `Authorization` header: `Bearer <token>` (RFC 6750), or `Basic`
 * (RFC 7617) with the credential's name as user and its token as password,
 * for clients that only do Basic. Anything else, two headers, or a header
 * that does not parse names no credential (401).
 */
import type { AccessList } from './access-list.js';
import type { Credential } from './credentials.js';

const AUTHORIZATION = 'authorization';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The credential the request's `Authorization` header names (node:http's `rawHeaders`), or undefined. */
export function credentialOf(list: AccessList, rawHeaders: string[]): Credential | undefined {
  let value: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === AUTHORIZATION.length && name.toLowerCase() === AUTHORIZATION) {
      // Two credentials in one request: which one counts is not for us to guess.
      if (value !== undefined) return undefined;
      value = rawHeaders[i + 1]!;
    }
  }
  return value === undefined ? undefined : credentialOfValue(list, value);
}

/** The credential one `Authorization` field value names, or undefined. */
export function credentialOfValue(list: AccessList, value: string): Credential | undefined {
  const space = value.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = value.slice(0, space).toLowerCase();
  const rest = value.slice(space + 1).trim();
  if (rest === '') return undefined;
  if (scheme === 'bearer') return list.byToken(rest);
  if (scheme !== 'basic' || !BASE64.test(rest)) return undefined;
  const pair = Buffer.from(rest, 'base64').toString('latin1');
  const colon = pair.indexOf(':');
  return colon < 0 ? undefined : list.login(pair.slice(0, colon), pair.slice(colon + 1));
}
