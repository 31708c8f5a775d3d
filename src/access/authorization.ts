/**
 * The HTTP `Authorization` header: `Bearer <token>` (RFC 6750), or `Basic`
 * (RFC 7617) with the credential's name as user and its token as password,
 * for clients that only do Basic. Anything else, two headers, or a header
 * that does not parse names no credential (401).
 *
 * A keep-alive connection sends the same header with every request; hashing
 * it each time is most of what a check costs (a SHA-256 is several µs, a hit
 * some tens), so a connection remembers its last header and what it named
 * (`LastCredential`) until the next reload. The remembered header is compared
 * with the new one in time that depends only on the new one's length: on a
 * connection a load balancer shares among clients, it is another client's.
 */
import type { AccessList } from './access-list.js';
import type { Credential } from './credentials.js';

const AUTHORIZATION = 'authorization';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The credential the request's `Authorization` header names (node:http's `rawHeaders`), or undefined. */
export function credentialOf(list: AccessList, rawHeaders: string[]): Credential | undefined {
  const value = authorization(rawHeaders);
  return value === undefined ? undefined : credentialOfValue(list, value);
}

/** What one connection last presented, and what it named, as of reload `generation`. */
export class LastCredential {
  header = '';
  credential: Credential | undefined = undefined;
  generation = -1;
}

/** `credentialOf`, remembering the answer on the connection's `last` until the header or the credentials change. */
export function connectionCredentialOf(list: AccessList, rawHeaders: string[], last: LastCredential): Credential | undefined {
  const value = authorization(rawHeaders);
  if (value === undefined) return undefined;
  if (last.generation === list.generation && sameText(value, last.header)) return last.credential;
  const credential = credentialOfValue(list, value);
  last.header = value;
  last.credential = credential;
  last.generation = list.generation;
  return credential;
}

/** The one `Authorization` field's value, or undefined when there is none or more than one. */
function authorization(rawHeaders: string[]): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === AUTHORIZATION.length && name.toLowerCase() === AUTHORIZATION) {
      // Two credentials in one request: which one counts is not for us to guess.
      if (value !== undefined) return undefined;
      value = rawHeaders[i + 1]!;
    }
  }
  return value;
}

/** Whether `a` and `b` are equal, in time that depends on `a`'s length only (never on where they differ). */
export function sameText(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  // Past b's end charCodeAt is NaN, which `^` reads as 0; the lengths already differ then.
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
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
