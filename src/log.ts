/**
 * One-line operational messages (start, stop, Redis state changes, shard
 * restarts) on stderr, stamped with the time. Never called per request.
 * Synchronous writes, so a worker's last words survive its death.
 */
import { writeSync } from 'node:fs';

export function log(line: string): void {
  writeSync(2, `${new Date().toISOString()} ${line}\n`);
}
