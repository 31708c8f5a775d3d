/**
 * Starts the shard workers with piscina, attaches each to the dispatcher, and
 * replaces a worker that dies.
 *
 * One single-thread piscina pool per shard, because a key must always reach
 * the same worker and piscina pools pick workers freely. Piscina earns its
 * place by starting the thread, surfacing its death as a rejected task, and
 * starting a replacement; requests do not travel as piscina tasks (see
 * `workers/shard.ts`).
 */
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { AttachTask, ShardSettings } from '../../workers/shard.js';
import type { Log } from '../log.js';
import { newShardStats } from '../metrics/shard-stats.js';
import type { Dispatcher } from '../acceptor/dispatcher.js';
import { Outcome } from '../hop/wire.js';

/** What each shard worker is started with. */
export interface ShardPoolOptions extends ShardSettings {
  shards: number;
  /** Total cache capacity in keys, divided among the shards. */
  capacity: number;
  /** Total value bytes cached, divided among the shards; 0: no limit. */
  maxBytes: number;
  log: Log;
}

const WORKER = new URL('../../workers/shard.js', import.meta.url).href;

/** The shard workers: one single-thread piscina pool each, replaced when they die. */
export class ShardPool {
  readonly #pools: Piscina[] = [];
  readonly #options: ShardPoolOptions;
  readonly #dispatcher: Dispatcher;
  #closing = false;
  /** Until every shard has started once, a death is a start-up failure, not something to repair. */
  #started = false;
  /** Workers replaced after dying, per shard. */
  readonly restarts: Float64Array;
  /** Each shard's published figures (`Stat` slots), shared with its worker. */
  readonly stats: Float64Array[];

  constructor(dispatcher: Dispatcher, options: ShardPoolOptions) {
    this.#dispatcher = dispatcher;
    this.#options = options;
    this.restarts = new Float64Array(options.shards);
    this.stats = Array.from({ length: options.shards }, newShardStats);
  }

  /**
   * Starts every shard and waits up to `waitMs` for each to reach Redis.
   * Rejects when a worker cannot even load.
   */
  async start(waitMs: number): Promise<void> {
    for (let i = 0; i < this.#options.shards; i++) {
      const pool = new Piscina({
        filename: WORKER,
        minThreads: 1,
        maxThreads: 1,
        idleTimeout: Number.POSITIVE_INFINITY,
        // The default 'sync' atomics mode freezes an idle worker's event
        // loop: no Redis replies, no timers. The shard lives on its event loop.
        atomics: 'disabled',
        // The attach task occupies the worker for its whole life; the
        // second slot lets the ready check in.
        concurrentTasksPerWorker: 2,
      });
      // A worker that throws outside a task is reported here; its death
      // is handled through the attach task's rejection.
      pool.on('error', (err: Error) => this.#options.log.error(`shard ${i}: worker error: ${err.message}`));
      this.#pools.push(pool);
      this.#attach(i);
    }
    await Promise.all(this.#pools.map((pool) => pool.run({ kind: 'ready', waitMs })));
    this.#started = true;
  }

  /** Stops every shard: detaches them and lets their tasks end. */
  async close(): Promise<void> {
    this.#closing = true;
    for (let i = 0; i < this.#pools.length; i++) this.#dispatcher.detach(i, Outcome.ShardDown);
    await Promise.all(this.#pools.map((pool) => pool.close({ force: true })));
  }

  /**
   * Test hook: makes shard `i`'s worker die of an uncaught exception.
   * Resolves once it has died; rejects when test hooks are off.
   */
  kill(i: number): Promise<void> {
    if (!this.#options.testHooks) return Promise.reject(new Error('test hooks are off'));
    return this.#pools[i]!.run({ kind: 'crash' }).then(
      () => undefined,
      () => undefined,
    );
  }

  /** Shard `i`'s part of a total (keys or bytes): an equal share, the remainder spread over the first shards. */
  static capacityOf(i: number, shards: number, total: number): number {
    return Math.floor(total / shards) + (i < total % shards ? 1 : 0);
  }

  #attach(i: number): void {
    const { port1, port2 } = new MessageChannel();
    const { shards, capacity, maxBytes, log, ...settings } = this.#options;
    const task: AttachTask = {
      ...settings,
      kind: 'attach',
      port: port2,
      index: i,
      capacity: ShardPool.capacityOf(i, shards, capacity),
      maxBytes: maxBytes === 0 ? Number.POSITIVE_INFINITY : ShardPool.capacityOf(i, shards, maxBytes),
      stats: this.stats[i]!,
    };
    this.#dispatcher.attach(i, port1);
    this.#pools[i]!.run(task, { transferList: [port2] }).then(
      () => undefined,
      (err: Error) => this.#died(i, err),
    );
  }

  #died(i: number, err: Error): void {
    if (this.#closing || !this.#started) return;
    this.restarts[i]!++;
    this.#options.log.error(`shard ${i}: worker died (${err.message}); failing its in-flight requests and starting a new one`);
    this.#dispatcher.detach(i, Outcome.ShardDown);
    this.#attach(i);
  }
}
