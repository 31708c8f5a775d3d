/**
 * Worker-thread entry of acceptors 1…A−1, loaded by piscina (acceptor 0 is
 * the main thread). The main thread runs one long `attach` task, which
 * builds the acceptor and listens on the ports acceptor 0 bound (the kernel
 * spreads their connections with `reusePort`); it stays in flight for the
 * thread's life, so its rejection is how the main thread learns the
 * acceptor died. Then one `shard` task per shard hands over the acceptor's
 * end of a port to that shard, again whenever a shard is replaced.
 */
import { threadId } from 'node:worker_threads';
import { Acceptor } from '../src/acceptor/acceptor.js';
import type {
  AcceptorAttachTask,
  AcceptorCrashTask,
  AcceptorReadyTask,
  AcceptorReloadTask,
  Drained,
  DrainTask,
  FileLoad,
  ShardPortTask,
} from '../src/hop/tasks.js';
import { createLog } from '../src/log.js';
import { AcceptorStat } from '../src/metrics/acceptor-stats.js';
import { trackEventLoop } from '../src/metrics/event-loop.js';
import { nameThread } from '../src/metrics/thread.js';

type Task = AcceptorAttachTask | AcceptorReadyTask | ShardPortTask | DrainTask | AcceptorReloadTask | AcceptorCrashTask;

let acceptor: Acceptor | undefined;
let listening: Promise<unknown> = Promise.reject(new Error('acceptor not attached'));
listening.catch(() => undefined);
let testHooks = false;

/** The piscina task handler. */
export default function run(task: Task): Promise<unknown> {
  switch (task.kind) {
    case 'attach':
      return attach(task);
    case 'ready':
      return listening.then(() => 'listening');
    case 'shard':
      if (acceptor === undefined) return Promise.reject(new Error('acceptor not attached'));
      acceptor.attachShard(task.shard, task.port);
      return Promise.resolve('linked');
    case 'drain':
      return acceptor === undefined
        ? Promise.reject(new Error('acceptor not attached'))
        : acceptor.drain(task.timeoutMs).then((d): Drained => d);
    case 'reload':
      return acceptor === undefined ? Promise.reject(new Error('acceptor not attached')) : Promise.resolve<FileLoad[]>(acceptor.reload());
    case 'crash':
      if (!testHooks) return Promise.reject(new Error('test hooks are off (SHARDCACHE_TEST_HOOKS=1 enables them)'));
      setImmediate(() => {
        throw new Error(`acceptor ${acceptor?.index} killed by the test hook`);
      });
      return new Promise(() => {});
  }
}

function attach(task: AcceptorAttachTask): Promise<string> {
  testHooks = task.config.testHooks;
  task.stats[AcceptorStat.Tid] = nameThread(`acceptor-${task.index}`);
  task.stats[AcceptorStat.ThreadId] = threadId;
  trackEventLoop(task.stats, AcceptorStat.LoopP50);
  const own = new Acceptor(task);
  acceptor = own;
  const log = createLog(task.config.logLevel, { acceptor: task.index });
  // A replacement loads the files as they are now; one that cannot keeps nothing (ACCESS_FILE: no client gets in).
  for (const f of own.files()) if (f.error !== undefined) log.error(`acceptor ${task.index}: ${f.setting} ${f.path}: ${f.error}`);
  listening = own.listen(task.ports);
  listening.catch((err: Error) => log.error(`acceptor ${task.index}: ${err.message}`));
  // Lives as long as the thread: the pool ends it by terminating the worker.
  return new Promise(() => {});
}
