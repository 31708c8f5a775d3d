/**
 * Names the calling thread, so that `top -H`, `ps -L` and `perf` show which
 * thread is which (`shardcache`, `acceptor-1`, `shard-0`…), and finds its
 * Linux thread id, so that its CPU time can be read from /proc.
 *
 * Piscina starts our workers without a `name`, and Node names only the
 * threads it starts with one; but on Linux a thread may rename itself
 * through `/proc/thread-self/comm`, and the synchronous fs calls used here
 * run on the calling thread, so `/proc/thread-self` is that thread.
 * Elsewhere both are skipped and the thread keeps Node's name.
 */
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';

/** Linux keeps 15 bytes of a thread's name. */
const MAX_NAME = 15;

/** Names this thread `name` (cut to 15 bytes) and returns its thread id, or 0 where /proc has no thread-self. */
export function nameThread(name: string): number {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    writeFileSync('/proc/thread-self/comm', name.slice(0, MAX_NAME));
    return Number.isInteger(tid) ? tid : 0;
  } catch {
    return 0;
  }
}

/** Clock ticks per second of /proc's CPU times (USER_HZ): 100 on every Linux Node runs on. */
const TICKS = 100;

/** CPU seconds (user + system) thread `tid` of this process has used, or undefined when it is gone or unknown. */
export function threadCpuSeconds(tid: number): number | undefined {
  if (tid <= 0) return undefined;
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
    // Fields after the name, which is in parentheses and may hold spaces: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return undefined;
  }
}
