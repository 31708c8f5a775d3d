/**
 * ACCESS_FILE: the credentials, read from JSON and checked whole.
 *
 *   {"credentials": [{"name": "web", "token_sha256": "<64 hex>", "keys": ["page:"], "admin": false}, …]}
 *
 * Only the SHA-256 of a token is kept; the file never holds a token. A bad
 * file is refused with a message that names the problem and quotes no value
 * (a token pasted where its hash belongs must not reach a log).
 */
import { readFileSync } from 'node:fs';
import { redactJsonError } from '../redact.js';
import { Scope } from './scope.js';

/** One credential of the file. */
export interface Credential {
  readonly name: string;
  /** SHA-256 of the token, 32 bytes. */
  readonly digest: Buffer;
  readonly scope: Scope;
  /** May use the admin listener's routes (the status page, /stats.json, /metrics). */
  readonly admin: boolean;
  /**
   * Set when a reload replaced this credential's file: the credential of the
   * same name and token in the new file, or null when it is gone or its token
   * changed. A RESP session logged in as this one follows it.
   */
  successor?: Credential | null;
}

/** A file that cannot be used; the message names the problem, never a value from it. */
export class AccessFileError extends Error {
  override name = 'AccessFileError';
}

const ENTRY_FIELDS = new Set(['name', 'token_sha256', 'keys', 'admin']);
const HEX64 = /^[0-9a-fA-F]{64}$/;
/** Printable ASCII without spaces or `:` (a Basic user name cannot hold one). */
const NAME = /^[!-9;-~]+$/;

/** Reads and checks the file at `path`; throws `AccessFileError`. */
export function loadCredentials(path: string): Credential[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AccessFileError(`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseCredentials(text);
}

/** Checks the text of an access file; throws `AccessFileError` naming the first problem. */
export function parseCredentials(text: string): Credential[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AccessFileError(`not JSON: ${redactJsonError((err as Error).message)}`);
  }
  if (!isObject(json)) throw new AccessFileError('not a JSON object: expected {"credentials": [...]}');
  for (const field of Object.keys(json))
    if (field !== 'credentials') throw new AccessFileError(`unknown field ${JSON.stringify(field)} at the top (only "credentials")`);
  const list = json.credentials;
  if (!Array.isArray(list)) throw new AccessFileError('"credentials" must be an array');
  const names = new Set<string>();
  const digests = new Set<string>();
  return list.map((entry: unknown, i) => {
    const c = credential(entry, i);
    if (names.has(c.name)) throw new AccessFileError(`credentials[${i}]: duplicate name ${JSON.stringify(c.name)}`);
    const hex = c.digest.toString('hex');
    if (digests.has(hex)) throw new AccessFileError(`credentials[${i}] (${c.name}): the same token_sha256 as an earlier credential`);
    names.add(c.name);
    digests.add(hex);
    return c;
  });
}

function credential(entry: unknown, i: number): Credential {
  const at = `credentials[${i}]`;
  if (!isObject(entry)) throw new AccessFileError(`${at}: must be an object`);
  for (const field of Object.keys(entry))
    if (!ENTRY_FIELDS.has(field))
      throw new AccessFileError(`${at}: unknown field ${JSON.stringify(field)} (name, token_sha256, keys, admin)`);
  const { name, token_sha256: hash, keys, admin } = entry;
  if (typeof name !== 'string' || !NAME.test(name))
    throw new AccessFileError(`${at}: "name" must be a non-empty string of printable ASCII without spaces or ':'`);
  const who = `${at} (${name})`;
  if (typeof hash !== 'string' || !HEX64.test(hash))
    throw new AccessFileError(`${who}: "token_sha256" must be 64 hex digits, the SHA-256 of the token (sha256sum)`);
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string'))
    throw new AccessFileError(`${who}: "keys" must be an array of key prefixes (strings; "" is every key)`);
  if (admin !== undefined && typeof admin !== 'boolean') throw new AccessFileError(`${who}: "admin" must be true or false`);
  return {
    name,
    digest: Buffer.from(hash, 'hex'),
    // Keys travel as binary strings (one char per byte): the prefixes' UTF-8 bytes, the same way.
    scope: new Scope((keys as string[]).map((k) => Buffer.from(k, 'utf8').toString('latin1'))),
    admin: admin === true,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
