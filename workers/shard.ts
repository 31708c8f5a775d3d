/**
 * Worker-thread entry of a shard, loaded by piscina.
 *
 * Piscina starts and replaces the thread; the request traffic does not go
 * through piscina tasks. The main thread runs one long `attach` task that
 * starts the shard, then one `link` task per acceptor thread, each handing
 * over a MessagePort; from then on request batches and reply batches flow
 * over those ports as transferred ArrayBuffers. The attach task stays in
 * flight for the life of the shard, so its rejection is how the main thread
 * learns that the worker died.
 */
import { threadId, type MessagePort } from 'node:worker_threads';
import { createLog, type Log } from '../src/log.js';
import { trackEventLoop } from '../src/metrics/event-loop.js';
import { nameThread } from '../src/metrics/thread.js';
import { Stat } from '../src/metrics/shard-stats.js';
import { openBackend, type Backend } from '../src/shard/backend.js';
import { Shard } from '../src/shard/shard.js';
import type { AttachTask, CrashTask, LinkTask, ReadyTask, StopTask } from '../src/hop/tasks.js';
import { delayedForTests } from '../src/shard/test-delay.js';

let backend: Backend | undefined;
let shard: Shard | undefined;
let log: Log | undefined;
let testHooks = false;
/** Resolves once Redis is ready or REDIS_TIMEOUT_MS has passed: links read their ports from then on. */
let started: Promise<unknown> = Promise.resolve();
let stop: (() => void) | undefined;

/** The piscina task handler: attach a shard, link an acceptor, wait for Redis, stop, or (test hook) crash. */
export default function run(task: AttachTask | LinkTask | ReadyTask | CrashTask | StopTask): Promise<string> {
  if (task.kind === 'attach') return attach(task);
  if (task.kind === 'link') return link(task.port);
  if (task.kind === 'ready') return ready(task.waitMs);
  if (task.kind === 'stop') {
    stop?.();
    return Promise.resolve('stopped');
  }
  return crash();
}

function link(port: MessagePort): Promise<string> {
  const own = shard;
  if (own === undefined) return Promise.reject(new Error('shard not attached'));
  const n = own.link((batch) => port.postMessage(batch, [batch]));
  // Batches wait in the port until Redis is ready (or REDIS_TIMEOUT_MS has
  // passed): a replacement worker then answers the requests sent while it
  // connected instead of failing them for a connection that is seconds old.
  void started.then(() => port.on('message', (batch: ArrayBuffer) => own.receive(batch, n)));
  port.once('close', () => own.unlink(n));
  return Promise.resolve('linked');
}

function ready(waitMs: number): Promise<string> {
  if (backend === undefined) return Promise.reject(new Error('shard not attached'));
  return backend.ready(waitMs);
}

function crash(): Promise<string> {
  if (!testHooks) return Promise.reject(new Error('test hooks are off (SHARDCACHE_TEST_HOOKS=1 enables them)'));
  log!.error('killed by the test hook');
  setImmediate(() => {
    throw new Error('shard killed by the test hook');
  });
  return new Promise(() => {});
}

function attach(task: AttachTask): Promise<string> {
  const { stats } = task;
  testHooks = task.testHooks;
  const logger = createLog(task.logLevel, { shard: task.index });
  log = logger;
  stats[Stat.Tid] = nameThread(`shard-${task.index}`);
  stats[Stat.ThreadId] = threadId;
  trackEventLoop(stats, Stat.LoopP50);
  const store = openBackend({ settings: task.backend, label: `shard ${task.index}`, log: logger, stats });
  backend = store;
  const own = new Shard({
    ...task,
    stats,
    resend: store.resend,
    fetchTyped: store.fetchTyped,
    forward: store.forward,
    // SHARDCACHE_TEST_NO_EXPIRY=1 (test hooks only): GET and MGET without the TTLs, for the comparison the expiry test and benchmark make.
    ...delayedForTests(
      {
        fetch: store.fetch,
        fetchMany: store.fetchMany,
        fetchWithLife: testHooks && process.env.SHARDCACHE_TEST_NO_EXPIRY === '1' ? undefined : store.fetchWithLife,
      },
      process.env.SHARDCACHE_TEST_DELAY_GET,
    ),
  });
  shard = own;
  if (task.invalidation === 'tracking') store.track(own, task.staleIfErrorMs > 0);
  // One reader of Redis's tracking table per proxy.
  if (task.invalidation === 'tracking' && task.index === 0) store.watchTable(task.totalCapacity);
  started = store.ready(task.backend.timeoutMs);
  return new Promise((resolve) => {
    stop = () => {
      store.close();
      resolve('closed');
    };
  });
}
