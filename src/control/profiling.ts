/**
 * Under `--prof` (how `clinic flame` and 0x profile), V8 writes one tick
 * log per isolate, `isolate-<address>-<pid>-v8.log`, so every acceptor and
 * shard thread writes one beside the main thread's. The profiler then reads
 * the first such file it finds, in directory order: often a worker's, and
 * the flame graph shows the wrong thread. So each worker thread's log is
 * moved into `isolate-<pid>-threads/` as soon as that thread is up (a
 * replacement thread's too), and once more at exit for any thread that came
 * and went in between; the logs stay there for whoever wants them
 * (`node --prof-process`), and the main thread's log is the only one a
 * profiler can find, whenever it looks. Without `--prof` this does nothing.
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
  try {
    return readdirSync(dir).filter((f) => mine.test(f));
  } catch (err) {
    // The folder itself is gone (removed under a running process): no log is left to move.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Set by `keepMainTickLog` under `--prof`: where the logs are and which is the main thread's. */
let kept: { dir: string; pid: number; main: ReadonlySet<string> } | undefined;

/**
 * Call first thing on the main thread, before any worker starts: the one
 * tick log of this process that exists now is the main thread's.
 */
export function keepMainTickLog(execArgv: readonly string[] = process.execArgv, cwd = process.cwd(), pid = process.pid): void {
  const dir = tickLogDir(execArgv, cwd);
  if (dir === undefined) return;
  const at = { dir, pid, main: new Set(tickLogs(dir, pid)) };
  kept = at;
  process.once('exit', () => moveThreadLogs(at.dir, at.pid, at.main));
}

/**
 * Call when a worker thread is up (its isolate, and so its tick log, exists):
 * moves its log aside at once. Does nothing unless `keepMainTickLog` found `--prof`.
 */
export function moveThreadTickLogs(): void {
  if (kept !== undefined) moveThreadLogs(kept.dir, kept.pid, kept.main);
}

/**
 * Moves this process's tick logs other than `main` into `isolate-<pid>-threads/`;
 * returns how many. `found` is the listing (this process's logs now); a log
 * that is gone by the time it is moved (a profiler took it) is passed over.
 */
export function moveThreadLogs(dir: string, pid: number, main: ReadonlySet<string>, found = tickLogs(dir, pid)): number {
  const others = found.filter((f) => !main.has(f));
  if (others.length === 0) return 0;
  const into = join(dir, `isolate-${pid}-threads`);
  mkdirSync(into, { recursive: true });
  let moved = 0;
  for (const f of others) {
    try {
      // A rename keeps the file open under its new name: a thread still writing ticks writes them there.
      renameSync(join(dir, f), join(into, f));
      moved++;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return moved;
}
