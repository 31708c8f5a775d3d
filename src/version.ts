/**
 * The version shardcache reports (status page, `/stats.json`, `shardcache_info`,
 * RESP `INFO` and `HELLO`), read once from the package.json this code ships
 * with, so that it cannot drift from the published version.
 *
 * The file sits at a different depth from the source (`src/`) and from the
 * compiled code (`dist/src/`, also in the Docker image), so the nearest
 * package.json above this module is the one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `version` of the nearest package.json at or above `start`; `unknown` when there is none or it has none. */
export function versionAbove(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    // Nothing above: an unpacked copy without its package.json still runs.
    if (up === dir) return 'unknown';
    dir = up;
  }
  const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown }).version;
  return typeof version === 'string' ? version : 'unknown';
}

/** shardcache's version, from its package.json (`unknown` when there is none). */
export const VERSION: string = versionAbove(dirname(fileURLToPath(import.meta.url)));
