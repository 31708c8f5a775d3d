/** ACCESS_FILE for tests: credentials written with the SHA-256 of tokens the test chose. */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A credential as a test writes it: the token in clear, hashed when written. */
export interface TestCredential {
  name: string;
  token: string;
  keys: string[];
  admin?: boolean;
}

/** The hex SHA-256 of `token`, as `printf %s token | sha256sum` prints it. */
export const sha256 = (token: string): string => createHash('sha256').update(token).digest('hex');

/** The file's text for `credentials`. */
export function accessJson(credentials: readonly TestCredential[]): string {
  return JSON.stringify({
    credentials: credentials.map((c) => ({
      name: c.name,
      token_sha256: sha256(c.token),
      keys: c.keys,
      ...(c.admin === undefined ? {} : { admin: c.admin }),
    })),
  });
}

/** Writes `credentials` to `<dir>/access.json` and returns its path. */
export function writeAccessFile(dir: string, credentials: readonly TestCredential[], name = 'access.json'): string {
  const path = join(dir, name);
  writeFileSync(path, accessJson(credentials));
  return path;
}

/** `Authorization: Basic` for `name` and `token`. */
export const basic = (name: string, token: string): string => `Basic ${Buffer.from(`${name}:${token}`).toString('base64')}`;
