/**
 * One acceptor: the HTTP front end, the RESP listener when RESP_PORT is set,
 * and the dispatcher that batches their requests to the shards. The main
 * thread runs acceptor 0; acceptors 1…A−1 run the same class in worker
 * threads (`workers/acceptor.ts`). Every acceptor listens on the same ports
 * with `reusePort`, so the kernel spreads new connections over them, and
 * each has a port to every shard, so a key still lives in exactly one shard.
 *
 * Acceptors share nothing but counters (`hop/shared.ts`: requests in flight
 * per shard, connections per listener) and their stats arrays, which the
 * main thread reads for /metrics.
 */
import type http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { MessagePort } from 'node:worker_threads';
import { AccessList } from '../access/access-list.js';
import { loadCredentials } from '../access/credentials.js';
import type { Config } from '../config.js';
import type { AcceptorOptions, BoundPorts, Drained, FileLoad } from '../hop/tasks.js';
import { Outcome, Protocol } from '../hop/vocabulary.js';
import { AcceptorStat, shedCounts } from '../metrics/acceptor-stats.js';
import { ConnectionLimit } from './connection-limit.js';
import { Dispatcher, handOffBound } from './dispatcher.js';
import { drain } from './drain.js';
import { ReloadableFile } from './reloadable.js';
import { HttpFront } from './http/front.js';
import { RespServer } from './resp/server.js';
import { loadTls, reloadServer, type TlsMaterial } from '../tls-context.js';

/** A listener that would not bind: which setting it was, and why. */
export class ListenError extends Error {
  override name = 'ListenError';
}

export class Acceptor {
  readonly index: number;
  readonly dispatcher: Dispatcher;
  readonly front: HttpFront;
  readonly resp: RespServer | undefined;
  readonly stats: Float64Array;
  /** ACCESS_FILE's credentials in force here; undefined when it is not set (every client reads every key). */
  readonly access: AccessList | undefined;
  readonly #config: Config;
  /** The files this acceptor loads from settings, each loaded again by `reload` (SIGHUP). */
  readonly #files: ReloadableFile[] = [];
  /** The TLS files in force on this acceptor's listeners; undefined without TLS. */
  tls: TlsMaterial | undefined;

  constructor(o: AcceptorOptions) {
    const c = o.config;
    this.index = o.index;
    this.stats = o.stats;
    this.#config = c;
    // Empty until the file loads: an acceptor that cannot read it lets nobody in.
    const access = c.accessFile === '' ? undefined : new AccessList([]);
    this.access = access;
    if (access !== undefined) this.#files.push(new ReloadableFile('ACCESS_FILE', c.accessFile, (p) => access.replace(loadCredentials(p))));
    this.dispatcher = new Dispatcher(c.shards, handOffBound(c.maxInflight, c.maxConnections, c.respPort === 'off' ? 1 : 2), {
      inflight: o.counters.inflight,
      own: o.own,
      shed: shedCounts(o.stats),
    });
    const limit = (p: Protocol): ConnectionLimit => new ConnectionLimit(o.counters.connections, p, c.maxConnections, o.stats);
    this.front = new HttpFront(this.dispatcher, {
      ...c,
      access,
      limit: limit(Protocol.Http),
      stats: o.stats,
    });
    this.resp =
      c.respPort === 'off'
        ? undefined
        : new RespServer(this.dispatcher, {
            maxKeyBytes: c.maxKeyBytes,
            limit: limit(Protocol.Resp),
            stats: o.stats,
            clientIds: o.counters.connections,
            password: c.respPassword,
            tls: c.tls,
            access,
          });
    this.tls = c.tls;
    // One entry for the certificate, its key and the CA, read and checked
    // together (a new certificate comes with its new key); the error names
    // the bad one. Loaded at once too: a replacement acceptor serves the
    // files as they are now, not as they were at start-up.
    const ticketKeys = c.tls?.ticketKeys;
    if (ticketKeys !== undefined)
      this.#files.push(new ReloadableFile('TLS_CERT_FILE', c.tlsCertFile, () => this.reloadTls(loadTls(c, ticketKeys))));
    for (const file of this.#files) file.load();
  }

  /**
   * Loads every file again (SIGHUP, sent to each acceptor by the main
   * thread). A bad file keeps the content loaded before; its `FileLoad` says
   * why. A file is added to the list in the constructor, with the function
   * that puts its content in force.
   */
  reload(): FileLoad[] {
    return this.#files.map((f) => f.load());
  }

  /** When each file was last loaded, and the problem of its last attempt, without loading. */
  files(): FileLoad[] {
    return this.#files.map((f) => f.status());
  }

  /** Starts sending `shard`'s requests over `port` (a shard started, or was replaced). */
  attachShard(shard: number, port: MessagePort): void {
    this.dispatcher.attach(shard, port);
  }

  /**
   * Listens on `ports` (for acceptor 0, the configured ports, 0 picking free
   * ones; for the others, the ports acceptor 0 got). HTTP goes first and
   * RESP only once HTTP listens: a profiler's preload (clinic flame's)
   * watches the servers opened before the first `listening` event, and
   * reports each, which it cannot do twice.
   */
  async listen(ports: BoundPorts): Promise<BoundPorts> {
    const reusePort = this.#config.acceptors > 1;
    const http = await this.#bind(this.front.server, ports.http, reusePort, 'PORT');
    const resp = this.resp === undefined ? undefined : await this.#bind(this.resp.server, ports.resp ?? 0, reusePort, 'RESP_PORT');
    this.stats[AcceptorStat.Listening] = 1;
    return resp === undefined ? { http } : { http, resp };
  }

  /**
   * Stops accepting, answers what is in flight, and closes connections as
   * they go idle; RESP connections end after their pending replies.
   */
  async drain(timeoutMs: number): Promise<Drained> {
    this.stats[AcceptorStat.Listening] = 0;
    this.front.draining = true;
    this.resp?.close();
    const code = await drain([this.front.server], timeoutMs);
    const answered = this.front.counts.reduce((a, b) => a + b, 0);
    return { code, answered, received: this.front.received };
  }

  /** New TLS files, read and checked: the next handshakes on each listener use them; open connections are untouched. */
  reloadTls(material: TlsMaterial): void {
    this.tls = material;
    for (const server of [this.front.server, this.resp?.server]) if (server instanceof tls.Server) reloadServer(server, material);
  }

  /** Fails the requests still waiting on any shard (the process is going away). */
  detachAll(): void {
    for (let s = 0; s < this.dispatcher.shards; s++) this.dispatcher.detach(s, Outcome.ShardDown);
  }

  async #bind(server: http.Server | net.Server, port: number, reusePort: boolean, setting: string): Promise<number> {
    // With SO_REUSEPORT a port held by another process that set it too (a
    // second shardcache) would be shared silently, each getting part of the
    // traffic; acceptor 0 first checks that nobody holds it.
    if (reusePort && this.index === 0 && port !== 0)
      await this.#listenOn(net.createServer(), port, false, setting).then((probe) => probe.close());
    return ((await this.#listenOn(server, port, reusePort, setting)).address() as net.AddressInfo).port;
  }

  #listenOn<S extends net.Server>(server: S, port: number, reusePort: boolean, setting: string): Promise<S> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void =>
        reject(new ListenError(`cannot listen on ${this.#config.host}:${port}: ${err.code ?? err.message} (${setting})`));
      server.once('error', onError);
      server.listen({ port, host: this.#config.host, reusePort, exclusive: true }, () => {
        server.off('error', onError);
        resolve(server);
      });
    });
  }
}
