/**
 * The main thread's control of the other threads: it starts the shards,
 * acceptor 0 (which runs on this thread) and the acceptor workers, gives
 * every acceptor a port to every shard, replaces a thread that dies and
 * re-links it, and stops them all in order. It never sees a request.
 *
 * Wiring: for each (acceptor, shard) pair one MessageChannel; the shard end
 * goes to the shard in a `link` task, the acceptor end to the acceptor
 * (directly for acceptor 0, in a `shard` task for the others). A thread
 * that dies closes its ends, and the other side notices by itself: a shard
 * drops the link, an acceptor fails that shard's requests in flight. The
 * supervisor then only has to link the replacement.
 */
import { MessageChannel } from 'node:worker_threads';
import { backendSettings, type Config } from '../config.js';
import { newOwnInflight, newProcessCounters, type ProcessCounters } from '../hop/shared.js';
import {
  type AcceptorAttachTask,
  type AcceptorOptions,
  type BoundPorts,
  type Drained,
  type FileLoad,
  type MainAcceptor,
  pickShardSettings,
} from '../hop/tasks.js';
import type { Log } from '../log.js';
import { AcceptorStat, newAcceptorStats } from '../metrics/acceptor-stats.js';
import { Stat } from '../metrics/shard-stats.js';
import { redisDown } from './backend-health.js';
import { ShardPool } from './shard-pool.js';
import { ThreadSlot } from './thread-slot.js';

const ACCEPTOR_WORKER = new URL('../../workers/acceptor.js', import.meta.url).href;

/** Every thread of the process and the shared memory they publish into. */
export class Supervisor {
  readonly counters: ProcessCounters;
  /** Per acceptor (0 is this thread): its figures, kept across replacements. */
  readonly acceptorStats: Float64Array[];
  /** Per acceptor: its requests in flight per shard. */
  readonly #own: Int32Array[];
  /** Acceptor threads replaced after dying, per acceptor (0 never is: it is the process). */
  readonly acceptorRestarts: Float64Array;
  readonly shards: ShardPool;
  readonly acceptor: MainAcceptor;
  /** Acceptor workers by index; index 0 is this thread and has none. */
  readonly #slots: (ThreadSlot | undefined)[];
  readonly #config: Config;
  readonly #log: Log;
  #ports: BoundPorts | undefined;
  #stopping = false;
  /** The files as the last SIGHUP left them; undefined before the first. */
  #files: FileLoad[] | undefined;

  /** `acceptor0` builds acceptor 0, which runs on this thread (main.ts: `(o) => new Acceptor(o)`). */
  constructor(config: Config, log: Log, acceptor0: (options: AcceptorOptions) => MainAcceptor) {
    this.#config = config;
    this.#log = log;
    const a = config.acceptors;
    this.counters = newProcessCounters(config.shards);
    this.acceptorStats = Array.from({ length: a }, () => newAcceptorStats(config.shards));
    this.#own = Array.from({ length: a }, () => newOwnInflight(config.shards));
    this.acceptorRestarts = new Float64Array(a);
    this.#slots = new Array<ThreadSlot | undefined>(a).fill(undefined);
    this.shards = new ShardPool({
      shards: config.shards,
      capacity: config.cacheCapacity,
      maxBytes: config.cacheMaxBytes,
      ...pickShardSettings(config, backendSettings(config)),
      log,
      onReplaced: (s) => {
        for (let i = 0; i < a; i++) this.#connect(i, s);
      },
    });
    this.acceptor = acceptor0({ index: 0, config, stats: this.acceptorStats[0]!, own: this.#own[0]!, counters: this.counters });
  }

  /**
   * Starts the shards and waits up to `waitMs` for them to reach Redis, then
   * has acceptor 0 listen and the other acceptors listen beside it on the
   * ports it got. Resolves with those ports once every acceptor listens;
   * rejects when a listener cannot bind (`ListenError`) or a thread cannot load.
   */
  async start(waitMs: number): Promise<BoundPorts> {
    this.shards.start();
    for (let s = 0; s < this.#config.shards; s++) this.#connect(0, s);
    await this.shards.ready(waitMs);
    const ports = await this.acceptor.listen({
      http: this.#config.port,
      resp: this.#config.respPort === 'off' ? undefined : this.#config.respPort,
    });
    this.#ports = ports;
    await Promise.all(Array.from({ length: this.#config.acceptors - 1 }, (_, i) => this.#startAcceptor(i + 1)));
    return ports;
  }

  /**
   * Which thread is which, for `top -H` (Linux thread ids) and for
   * `--cpu-prof` files (`CPU.<date>.<time>.<pid>.<threadId>.<n>.cpuprofile`).
   */
  threadMap(): string {
    const line = (name: string, stats: Float64Array, tid: number, threadId: number): string =>
      `${name} (thread ${stats[threadId]}, tid ${stats[tid]})`;
    return [
      ...this.acceptorStats.map((s, i) =>
        line(i === 0 ? 'shardcache = acceptor-0' : `acceptor-${i}`, s, AcceptorStat.Tid, AcceptorStat.ThreadId),
      ),
      ...this.shards.stats.map((s, i) => line(`shard-${i}`, s, Stat.Tid, Stat.ThreadId)),
    ].join(', ');
  }

  /** Why the proxy should get no traffic; empty when every acceptor listens and every shard reaches Redis. */
  problems(): string[] {
    const problems: string[] = [];
    this.acceptorStats.forEach((s, i) => {
      if (s[AcceptorStat.Listening] !== 1) problems.push(`acceptor ${i} not listening`);
    });
    this.shards.stats.forEach((s, i) => {
      if (!this.acceptor.dispatcher.attached(i)) problems.push(`shard ${i} restarting`);
      else if (s[Stat.RedisUp] !== 1) problems.push(`shard ${i}: ${redisDown(this.#config.redisMode)}`);
    });
    return problems;
  }

  /**
   * Drains every acceptor at once (each stops accepting and answers what it
   * took), then closes the shards: no request an acceptor took is left
   * without a shard to answer it.
   */
  async stop(timeoutMs: number): Promise<Drained> {
    this.#stopping = true;
    const drains = [
      this.acceptor.drain(timeoutMs),
      ...this.#slots.flatMap((slot) =>
        slot ? [slot.run<Drained>({ kind: 'drain', timeoutMs }).catch(() => ({ code: 1, answered: 0, received: 0 }))] : [],
      ),
    ];
    const all = await Promise.all(drains);
    await this.shards.close();
    await Promise.all(this.#slots.map((slot) => slot?.close()));
    return all.reduce((t, d) => ({ code: Math.max(t.code, d.code), answered: t.answered + d.answered, received: t.received + d.received }));
  }

  /**
   * SIGHUP: every acceptor loads its files again, acceptor 0 here and the
   * others in their threads. Resolves with one `FileLoad` per file: acceptor
   * 0's, carrying the first problem any acceptor had with that file (they all
   * read the same one, so one line of log per file is enough).
   */
  async reload(): Promise<FileLoad[]> {
    const mine = this.acceptor.reload();
    const others = await Promise.all(
      this.#slots.map((slot, i) =>
        slot === undefined
          ? []
          : slot
              .run<FileLoad[]>({ kind: 'reload' })
              .catch((err: Error) => mine.map((f) => ({ ...f, error: `acceptor ${i}: ${err.message}` }))),
      ),
    );
    this.#files = mine.map((f, i) => ({ ...f, ...(f.error === undefined ? pickError(others, i) : {}) }));
    return this.#files;
  }

  /** When each file was last loaded (acceptor 0's loads) and the last reload's problem, for the status page. */
  get files(): FileLoad[] {
    return this.#files ?? this.acceptor.files();
  }

  /** Test hook: makes acceptor `i`'s thread (1 or more) die as a bug would; resolves once it has. */
  killAcceptor(i: number): Promise<void> {
    const slot = this.#slots[i];
    if (!this.#config.testHooks || slot === undefined) return Promise.reject(new Error(`no acceptor worker ${i} to kill`));
    return slot.run({ kind: 'crash' }).then(
      () => undefined,
      () => undefined,
    );
  }

  #startAcceptor(i: number): Promise<unknown> {
    let slot = this.#slots[i];
    if (slot === undefined) {
      slot = new ThreadSlot({
        filename: ACCEPTOR_WORKER,
        label: `acceptor ${i}`,
        log: this.#log,
        onDeath: (err) => this.#acceptorDied(i, err),
      });
      this.#slots[i] = slot;
    }
    const task: AcceptorAttachTask = {
      kind: 'attach',
      index: i,
      config: this.#config,
      stats: this.acceptorStats[i]!,
      own: this.#own[i]!,
      counters: this.counters,
      ports: this.#ports!,
    };
    slot.start(task);
    for (let s = 0; s < this.#config.shards; s++) this.#connect(i, s);
    return slot.run({ kind: 'ready' });
  }

  /**
   * An acceptor thread died: its connections went with it. Its requests in
   * flight will never be answered, so its part of each shard's in-flight
   * count is taken back out (the thread is gone: nothing writes `own` now).
   */
  #acceptorDied(i: number, err: Error): void {
    if (this.#stopping) return;
    this.acceptorRestarts[i]!++;
    this.acceptorStats[i]![AcceptorStat.Listening] = 0;
    const own = this.#own[i]!;
    for (let s = 0; s < own.length; s++) {
      Atomics.sub(this.counters.inflight, s, own[s]!);
      own[s] = 0;
    }
    this.#log.error(`acceptor ${i}: thread died (${err.message}); its connections were closed; starting a new one`);
    this.#startAcceptor(i).catch((e: Error) => this.#log.error(`acceptor ${i}: replacement failed: ${e.message}`));
  }

  /** A fresh channel between acceptor `a` and shard `s`. */
  #connect(a: number, s: number): void {
    const { port1, port2 } = new MessageChannel();
    this.shards.link(s, port2).catch(() => port1.close());
    if (a === 0) this.acceptor.attachShard(s, port1);
    else this.#slots[a]!.run({ kind: 'shard', shard: s, port: port1 }, [port1]).catch(() => undefined);
  }
}

/** The first error the other acceptors reported for file `i`, if any. */
function pickError(others: FileLoad[][], i: number): { error?: string } {
  for (const loads of others) {
    const error = loads[i]?.error;
    if (error !== undefined) return { error };
  }
  return {};
}
