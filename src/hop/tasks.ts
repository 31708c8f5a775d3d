/**
 * What the main thread sends a worker thread, as piscina tasks: the shards'
 * (`workers/shard.ts`) and the acceptors' (`workers/acceptor.ts`), with the
 * settings and shared memory they are built from. Kept apart from the
 * workers, so that the supervisor (control/) can name them without importing
 * a worker entry; it imports only types, from below.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Config } from '../config.js';
import type { BackendSettings } from '../routing/backend-settings.js';
import type { TlsMaterial } from '../tls-context.js';
import type { ProcessCounters } from './shared.js';

/**
 * The settings a shard reads, named once: `Config`'s own fields, under
 * `Config`'s own names, from the main thread's parsed settings through the
 * `attach` task to the `Shard` itself (`pickShardSettings`), so a setting
 * is never renamed or copied field by field on its way to the thread that
 * uses it.
 */
export const SHARD_SETTINGS = [
  'cacheTtlMs',
  'staleIfErrorMs',
  'maxValueBytes',
  'negativeTtlMs',
  'eviction',
  'staleWhileRevalidateMs',
  'earlyRefreshBeta',
  'maxInflight',
  'invalidation',
  'logLevel',
  'testHooks',
] as const satisfies readonly (keyof Config)[];

/** The settings every shard is started with, the same for all of them, plus where Redis is (`backendSettings`). */
export type ShardSettings = Pick<Config, (typeof SHARD_SETTINGS)[number]> & { backend: BackendSettings };

/** `config`'s `SHARD_SETTINGS`, each under its own name. */
export function pickShardSettings(config: Config, backend: BackendSettings): ShardSettings {
  const picked = Object.fromEntries(SHARD_SETTINGS.map((name) => [name, config[name]])) as Pick<Config, (typeof SHARD_SETTINGS)[number]>;
  return { ...picked, backend };
}

/** What the main thread sends to bring a shard up. */
export interface AttachTask extends ShardSettings {
  kind: 'attach';
  index: number;
  /** This shard's share of CACHE_CAPACITY, in keys. */
  capacity: number;
  /** CACHE_CAPACITY, all shards together. */
  totalCapacity: number;
  /** This shard's share of CACHE_MAX_BYTES; Infinity when there is no byte limit. */
  maxBytes: number;
  /** The shard's stats over a SharedArrayBuffer, the same one across replacements (`newShardStats`). */
  stats: Float64Array;
}

/**
 * Sent after `attach`: resolves once the shard's Redis connection is ready,
 * or after `waitMs` if Redis does not answer, so that the proxy starts
 * listening with its shards connected whenever Redis is there.
 */
export interface ReadyTask {
  kind: 'ready';
  waitMs: number;
}

/**
 * Sent after `attach`, once per acceptor thread (and again for an acceptor's
 * replacement): the port its request batches come in by and its replies go
 * out by. Resolves at once; the link closes when the acceptor's end does.
 */
export interface LinkTask {
  kind: 'link';
  port: MessagePort;
}

/** Test hook: the worker dies of an uncaught exception, as it would of a bug. Refused unless enabled. */
export interface CrashTask {
  kind: 'crash';
}

/** Closes the Redis connections and ends the attach task (the proxy is stopping). */
export interface StopTask {
  kind: 'stop';
}

/** What an acceptor is built from: the settings, and the shared memory the main thread handed it. */
export interface AcceptorOptions {
  index: number;
  config: Config;
  /** This acceptor's figures (`newAcceptorStats`), the same array across replacements. */
  stats: Float64Array;
  /** This acceptor's requests in flight per shard (`newOwnInflight`). */
  own: Int32Array;
  counters: ProcessCounters;
}

/** The ports an acceptor listens on; `resp` is absent when RESP_PORT is off. */
export interface BoundPorts {
  http: number;
  resp?: number;
}

/** What a finished drain reports. */
export interface Drained {
  /** 0: every connection finished in time; 1: some were cut at SHUTDOWN_TIMEOUT_MS. */
  code: number;
  /** HTTP requests answered, and received, by this acceptor since it started. */
  answered: number;
  received: number;
}

/** Brings an acceptor up on `ports`. */
export interface AcceptorAttachTask extends AcceptorOptions {
  kind: 'attach';
  ports: BoundPorts;
}

/** Resolves once the acceptor listens; rejects with the reason when it cannot. */
export interface AcceptorReadyTask {
  kind: 'ready';
}

/** The acceptor's end of a channel to `shard`. */
export interface ShardPortTask {
  kind: 'shard';
  shard: number;
  port: MessagePort;
}

/** Stop accepting and answer what is in flight; resolves with what was answered. */
export interface DrainTask {
  kind: 'drain';
  timeoutMs: number;
}

/** Test hook: the thread dies of an uncaught exception. Refused unless enabled. */
export interface AcceptorCrashTask {
  kind: 'crash';
}

/** SIGHUP: the acceptor loads its files again (`Acceptor.reload`); resolves with their `FileLoad`s. */
export interface AcceptorReloadTask {
  kind: 'reload';
}

/**
 * One file an acceptor loads from a setting (ACCESS_FILE, …): where it is,
 * when it was last loaded, and why the last attempt failed when it did (the
 * content loaded before stays in use then).
 */
export interface FileLoad {
  /** The setting that names the file: `ACCESS_FILE`. */
  setting: string;
  path: string;
  /** ms since the epoch of the last load that succeeded; 0: none has. */
  loadedAt: number;
  /** The last attempt's problem; absent when it loaded. */
  error?: string;
}

/**
 * Acceptor 0, which runs on the main thread: what the supervisor asks of it.
 * The supervisor is handed one (`new Acceptor(…)` in main.ts) rather than
 * importing the acceptor.
 */
export interface MainAcceptor {
  listen(ports: BoundPorts): Promise<BoundPorts>;
  attachShard(shard: number, port: MessagePort): void;
  drain(timeoutMs: number): Promise<Drained>;
  /** Loads the acceptor's files again (SIGHUP). */
  reload(): FileLoad[];
  /** When each file was last loaded, without loading. */
  files(): FileLoad[];
  /** The TLS files in force (the admin listener takes them after a SIGHUP); undefined without TLS. */
  readonly tls: TlsMaterial | undefined;
  readonly dispatcher: { attached(shard: number): boolean };
}
