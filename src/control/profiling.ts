/**
 * Under `--prof` (how `clinic flame` and 0x profile), V8 writes one tick
 * log per isolate, `isolate-<address>-<pid>-v8.log`, so every acceptor and
 * shard thread writes one beside the main thread's. The profiler then reads
 * the first such file it finds, in directory order: often a worker's, and
 * the flame graph shows the wrong thread. So at exit the worker threads' logs
 * are moved into `isolate-<pid>-threads/` next to them, where they stay for
 * whoever wants them (`node --prof-process`), and the main thread's log is
 * the only one the profiler can find. Without `--prof` this does nothing.
 */
import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Where V8 writes tick logs under `execArgv`, or undefined when it writes none. */
export function tickLogDir(execArgv: readonly string[], cwd: string): string | undefined {
  if (!execArgv.includes('--prof')) return undefined;
  const logfile = execArgv.findLast((a) => a.startsWith('--logfile='))?.slice('--logfile='.length);
  return logfile === undefined ? cwd : dirname(resolve(cwd, logfile));
}

/** This process's tick logs in `dir`. */
function tickLogs(dir: string, pid: number): string[] {
  const mine = new RegExp(`^isolate-(0x)?[0-9A-Fa-f]+-(${pid}-)?${pid}-v8\\.log$`);
  return readdirSync(dir).filter((f) => mine.test(f));
}

/**
 * Call first thing on the main thread, before any worker starts: the one
 * tick log of this process that exists now is the main thread's.
 */
export function keepMainTickLog(execArgv: readonly string[] = process.execArgv, cwd = process.cwd(), pid = process.pid): void {
  const dir = tickLogDir(execArgv, cwd);
  if (dir === undefined) return;
  const main = new Set(tickLogs(dir, pid));
  process.once('exit', () => moveThreadLogs(dir, pid, main));
}

/** Moves this process's tick logs other than `main` into `isolate-<pid>-threads/`; returns how many. */
export function moveThreadLogs(dir: string, pid: number, main: ReadonlySet<string>): number {
  const others = tickLogs(dir, pid).filter((f) => !main.has(f));
  if (others.length === 0) return 0;
  const into = join(dir, `isolate-${pid}-threads`);
  mkdirSync(into, { recursive: true });
  // A rename keeps the file open under its new name: a thread still writing ticks writes them there.
  for (const f of others) renameSync(join(dir, f), join(into, f));
  return others.length;
}
