/**
 * One supervised worker thread: a single-thread piscina pool that runs one
 * long *lifetime* task for as long as the thread lives, plus short tasks
 * beside it. When the thread dies (an uncaught exception, a crash hook, out
 * of memory), the lifetime task rejects and `onDeath` is told; piscina has
 * already started a fresh thread, and starting the lifetime task again
 * lands there.
 *
 * Piscina earns its place here (it is a named dependency): it starts the
 * thread, surfaces its death as a rejected task and replaces it. Requests
 * never travel as piscina tasks; they go over MessagePorts in batches.
 */
import { Piscina } from 'piscina';
import { Worker, type TransferListItem } from 'node:worker_threads';
import type { Log } from '../log.js';
import { moveThreadTickLogs } from './profiling.js';

/** What a slot runs and whom it tells. */
export interface SlotOptions {
  /** The worker module's URL. */
  filename: string;
  /** `shard 2`, `acceptor 1`: for log lines. */
  label: string;
  log: Log;
  /** Called when the lifetime task rejects while the slot is not closing. */
  onDeath: (err: Error) => void;
}

/**
 * Preloads (`-r`, `--require`, `--import`, `--loader`) are not handed to
 * worker threads: they are process-level hooks written for the main thread,
 * and the one clinic flame adds reports the port of the first server that
 * listens, which a second acceptor listening would report again (and crash).
 * Every other flag is kept, so `--cpu-prof` profiles each thread.
 */
export function withoutPreloads(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    if (/^(-r|--require|--import|--loader|--experimental-loader)$/.test(arg)) i++;
    else if (!/^(--require|--import|--loader|--experimental-loader)=/.test(arg)) kept.push(arg);
  }
  return kept;
}

/**
 * The `execArgv` of our worker threads: the process's flags without its
 * preloads, or `undefined` (Node's default: inherit them all) when it has
 * none. Flags a Worker refuses when given explicitly (V8 and per-process
 * ones such as `--prof` or `--max-old-space-size`, which apply to every
 * thread of the process anyway) are left out, as Node names them: one
 * throwaway Worker is built, once, to ask it.
 */
export function threadExecArgv(execArgv: readonly string[]): string[] | undefined {
  const kept = withoutPreloads(execArgv);
  if (kept.length === execArgv.length) return undefined;
  try {
    void new Worker('', { eval: true, execArgv: kept }).terminate();
    return kept;
  } catch (err) {
    const refused = /invalid execArgv flags: (.*)$/.exec((err as Error).message)?.[1]?.split(', ');
    if (refused === undefined) throw err;
    return kept.filter((flag) => !refused.includes(flag));
  }
}

/** `threadExecArgv` of this process, worked out once: `{}` to inherit Node's default. */
let flags: { execArgv?: string[] } | undefined;
function workerFlags(): { execArgv?: string[] } {
  if (flags === undefined) {
    const execArgv = threadExecArgv(process.execArgv);
    flags = execArgv === undefined ? {} : { execArgv };
  }
  return flags;
}

export class ThreadSlot {
  readonly #pool: Piscina;
  readonly #o: SlotOptions;
  #closing = false;

  constructor(options: SlotOptions) {
    this.#o = options;
    this.#pool = new Piscina({
      filename: options.filename,
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
      ...workerFlags(),
      // The default 'sync' atomics mode freezes an idle worker's event
      // loop: no Redis replies, no timers, no connections. Ours live on it.
      atomics: 'disabled',
      // The lifetime task occupies one slot for good; short tasks (ready,
      // link, drain, stop) run beside it.
      concurrentTasksPerWorker: 8,
    });
    // A worker that throws outside a task is reported here; its death is
    // handled through the lifetime task's rejection.
    this.#pool.on('error', (err: Error) => options.log.error(`${options.label}: worker error: ${err.message}`));
    // Piscina tells once a thread is up, the first and every replacement: under --prof its tick log
    // leaves at once, so that a profiler listing the folder while the process runs finds the main thread's.
    this.#pool.on('workerCreate', moveThreadTickLogs);
  }

  /** Whether `close` was called: deaths are expected from then on. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Runs the lifetime task; its rejection is the thread's death. */
  start(task: object, transferList?: TransferListItem[]): void {
    this.#pool.run(task, transferList ? { transferList } : {}).then(
      () => undefined,
      (err: Error) => {
        if (!this.#closing) this.#o.onDeath(err);
      },
    );
  }

  /** Runs a short task beside the lifetime task. */
  run<T = string>(task: object, transferList?: TransferListItem[]): Promise<T> {
    return this.#pool.run(task, transferList ? { transferList } : {}) as Promise<T>;
  }

  /**
   * Ends the thread now; deaths from now on are not reported. (Piscina's
   * `close` would wait up to 30 s for the lifetime task, which never ends on
   * its own: whatever needed a clean end, a shard's Redis connections, was
   * closed by a task before this.)
   */
  async close(): Promise<void> {
    this.#closing = true;
    await this.#pool.destroy();
  }
}
