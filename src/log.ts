/**
 * Operational log lines (start, stop, errors, Redis state changes, shard
 * restarts) as pino JSON on stderr. Never called per request.
 *
 * The destination is synchronous in every thread: a line is on stderr before
 * the call returns, so a worker that dies, or a process that exits right
 * after logging, loses nothing. Pino's asynchronous destination buffers and
 * loses those last lines; at a few lines per minute the synchronous write
 * costs nothing that matters.
 */
import { pino, type Logger } from 'pino';

/** What the code needs of a logger; pino's satisfies it, and tests can pass a plain object. */
export interface Log {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** The pino log levels `LOG_LEVEL` accepts. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A logger writing JSON lines synchronously to stderr; `bindings` are added to every line (e.g. `{ shard: 2 }`). */
export function createLog(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings } }, pino.destination({ dest: 2, sync: true }));
}
