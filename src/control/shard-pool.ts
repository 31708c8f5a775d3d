/**
 * The shard workers: one supervised thread each (`ThreadSlot`), because a
 * key must always reach the same worker and piscina pools pick workers
 * freely. A worker that dies is replaced with an empty cache; the
 * supervisor then links every acceptor to the replacement.
 */
import type { MessagePort } from 'node:worker_threads';
import type { AttachTask, ShardSettings } from '../hop/tasks.js';
import type { Log } from '../log.js';
import { newShardStats } from '../metrics/shard-stats.js';
import { ThreadSlot } from './thread-slot.js';

/** What each shard worker is started with. */
export interface ShardPoolOptions extends ShardSettings {
  shards: number;
  /** Total cache capacity in keys, divided among the shards. */
  capacity: number;
  /** Total value bytes cached, divided among the shards; 0: no limit. */
  maxBytes: number;
  log: Log;
  /** Called once a dead shard's replacement runs: it needs a port from every acceptor. */
  onReplaced: (shard: number) => void;
}

const WORKER = new URL('../../workers/shard.js', import.meta.url).href;

/** The shard workers, replaced when they die. */
export class ShardPool {
  readonly #slots: ThreadSlot[] = [];
  readonly #o: ShardPoolOptions;
  /** Until every shard has started once, a death is a start-up failure, not something to repair. */
  #started = false;
  /** Workers replaced after dying, per shard. */
  readonly restarts: Float64Array;
  /** Each shard's published figures (`Stat` slots), shared with its worker. */
  readonly stats: Float64Array[];

  constructor(options: ShardPoolOptions) {
    this.#o = options;
    this.restarts = new Float64Array(options.shards);
    this.stats = Array.from({ length: options.shards }, newShardStats);
  }

  /** Starts every shard worker; `ready` then waits for their Redis. */
  start(): void {
    for (let i = 0; i < this.#o.shards; i++) {
      this.#slots.push(new ThreadSlot({ filename: WORKER, label: `shard ${i}`, log: this.#o.log, onDeath: (err) => this.#died(i, err) }));
      this.#attach(i);
    }
  }

  /**
   * Waits up to `waitMs` for every shard to reach Redis (and arm tracking).
   * Rejects when a worker cannot even load.
   */
  async ready(waitMs: number): Promise<void> {
    await Promise.all(this.#slots.map((slot) => slot.run({ kind: 'ready', waitMs })));
    this.#started = true;
  }

  /** Hands shard `i` the shard end of an acceptor's channel. */
  link(i: number, port: MessagePort): Promise<string> {
    return this.#slots[i]!.run({ kind: 'link', port }, [port]);
  }

  /** Closes every shard's Redis connections, then ends the threads. */
  async close(): Promise<void> {
    await Promise.all(this.#slots.map((slot) => slot.run({ kind: 'stop' }).catch(() => undefined)));
    await Promise.all(this.#slots.map((slot) => slot.close()));
  }

  /**
   * Test hook: makes shard `i`'s worker die of an uncaught exception.
   * Resolves once it has died; rejects when test hooks are off.
   */
  kill(i: number): Promise<void> {
    if (!this.#o.testHooks) return Promise.reject(new Error('test hooks are off'));
    return this.#slots[i]!.run({ kind: 'crash' }).then(
      () => undefined,
      () => undefined,
    );
  }

  /** Shard `i`'s part of a total (keys or bytes): an equal share, the remainder spread over the first shards. */
  static capacityOf(i: number, shards: number, total: number): number {
    return Math.floor(total / shards) + (i < total % shards ? 1 : 0);
  }

  #attach(i: number): void {
    const { shards, capacity, maxBytes, log, onReplaced, ...settings } = this.#o;
    const task: AttachTask = {
      ...settings,
      kind: 'attach',
      index: i,
      capacity: ShardPool.capacityOf(i, shards, capacity),
      totalCapacity: capacity,
      maxBytes: maxBytes === 0 ? Number.POSITIVE_INFINITY : ShardPool.capacityOf(i, shards, maxBytes),
      stats: this.stats[i]!,
    };
    this.#slots[i]!.start(task);
  }

  #died(i: number, err: Error): void {
    if (!this.#started) return;
    this.restarts[i]!++;
    this.#o.log.error(`shard ${i}: worker died (${err.message}); failing its in-flight requests and starting a new one`);
    this.#attach(i);
    this.#o.onReplaced(i);
  }
}
