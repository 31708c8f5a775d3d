/**
 * The HTTP front end: `node:http` request → key → shard, and shard result →
 * response. This is the hot path; it allocates one small header array per
 * answered value and nothing per request besides what node:http itself does.
 */
import http from 'node:http';
import https from 'node:https';
import type { AccessList } from '../../access/access-list.js';
import { connectionCredentialOf, LastCredential } from '../../access/authorization.js';
import type { Credential } from '../../access/credentials.js';
import type net from 'node:net';
import { AcceptorStat, HTTP_METHODS, HTTP_STATUSES, httpCounts } from '../../metrics/acceptor-stats.js';
import type { ConnectionLimit } from '../connection-limit.js';
import type { Dispatcher } from '../dispatcher.js';
import { ENCODED_ANSWER, type Sink } from '../sink.js';
import { HTTP_VIEWS, Outcome, Protocol } from '../../hop/vocabulary.js';
import { shardOf } from '../../routing/hash.js';
import { AgeStrings, ifNoneMatch, matchesEtag } from './caching.js';
import { decodeKey, KeyError } from '../../routing/key.js';
import { serverTlsOptions, type TlsMaterial } from '../../tls-context.js';
import { contentTypeOf, parseContentTypes, viewOf } from './typed-query.js';

/** `flags` bit: answer without a body. */
const HEAD = 1;
/** `flags` bit: a view of a typed value (`?field=`, `?start=&stop=`, or a GET asked again for its JSON). */
const VIEW = 2;

/** Labels of the method index used in `counts`: GET, HEAD, and anything else (refused). */
export const METHODS = HTTP_METHODS;
const OTHER = 2;
/** Status codes are counted in a flat array: `counts[method * STATUSES + status]`. */
export const STATUSES = HTTP_STATUSES;
/** The `status` label of each index of a method's row in `counts`. */
export const STATUS_LABELS: readonly string[] = Array.from({ length: STATUSES }, (_, status) => String(status));

const OCTET_STREAM = 'application/octet-stream';
const JSON_TYPE = 'application/json';
const NOT_FOUND_HEADERS = ['Content-Length', '0'];

/**
 * A connection's `LastCredential`, kept on the socket the requests arrive on
 * (a TLS socket under HTTPS, not the TCP one 'connection' sees), made on its first request.
 */
const LAST = Symbol('lastCredential');
type CheckedSocket = net.Socket & { [LAST]?: LastCredential };

/** The credential `req` names, remembered on its connection. */
function credentialOf(access: AccessList, req: http.IncomingMessage): Credential | undefined {
  const socket = req.socket as CheckedSocket;
  let last = socket[LAST];
  if (last === undefined) {
    last = new LastCredential();
    socket[LAST] = last;
  }
  return connectionCredentialOf(access, req.rawHeaders, last);
}

/** A fixed answer: status, headers and a short plain-text reason. */
interface Canned {
  status: number;
  headers: string[];
  body: Buffer;
}

function canned(status: number, reason: string, extra: string[] = []): Canned {
  const body = Buffer.from(`${reason}\n`);
  return { status, body, headers: ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(body.length), ...extra] };
}

const METHOD_NOT_ALLOWED = canned(405, 'method not allowed: only GET and HEAD', ['Allow', 'GET, HEAD']);
const FORBIDDEN = canned(403, 'key outside KEY_PREFIX');
const UNAUTHORIZED = canned(401, 'a credential is required: Authorization: Bearer <token> (ACCESS_FILE is set)', [
  'WWW-Authenticate',
  'Bearer realm="shardcache"',
]);
const OUT_OF_SCOPE = canned(403, "key outside this credential's keys (ACCESS_FILE)");
const KEY_ERRORS: Record<KeyError, (maxKeyBytes: number) => Canned> = {
  [KeyError.NotOriginForm]: () => canned(400, 'bad request target: it must start with /'),
  [KeyError.Empty]: () => canned(400, 'empty key: GET /<percent-encoded key>'),
  [KeyError.BadEscape]: () => canned(400, 'malformed percent-encoding in key'),
  [KeyError.TooLong]: (max) => canned(400, `key longer than MAX_KEY_BYTES (${max} bytes)`),
};
const OUTCOMES: Record<Exclude<Outcome, typeof Outcome.NotFound>, Canned> = {
  [Outcome.WrongType]: canned(
    409,
    'the key has no such view: ?field= reads a hash, ?start=&stop= a list or a sorted set; a stream is not served',
  ),
  [Outcome.Unavailable]: canned(503, 'redis unavailable or slower than REDIS_TIMEOUT_MS', ['Retry-After', '1']),
  [Outcome.RedisError]: canned(502, 'redis answered with an error'),
  [Outcome.ShardDown]: canned(503, 'shard restarting', ['Retry-After', '1']),
  [Outcome.Overloaded]: canned(503, 'shard overloaded: MAX_INFLIGHT requests already waiting on redis', ['Retry-After', '1']),
  [Outcome.QueueFull]: canned(503, 'shard queue full: too many requests handed to the shard', ['Retry-After', '1']),
};

/** The settings the HTTP front end needs. */
export interface FrontOptions {
  maxKeyBytes: number;
  /** MAX_CONNECTIONS, counted across every acceptor. */
  limit: ConnectionLimit;
  /** The acceptor's stats array (`newAcceptorStats`): the answers are counted in it. */
  stats: Float64Array;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** Only keys starting with this binary string are served ('' = all). */
  keyPrefix: string;
  /** CACHE_TTL_MS, for `Cache-Control: max-age`. */
  cacheTtlMs: number;
  /** STALE_IF_ERROR_MS: how old an answer can get, for sizing the header-string tables. */
  staleIfErrorMs: number;
  /** STALE_WHILE_REVALIDATE_MS: answers this far past the TTL say so in Cache-Control (RFC 5861). */
  staleWhileRevalidateMs?: number;
  /** TLS_CERT_FILE and friends, read: the server speaks HTTPS (node:https, the same handler). */
  tls?: TlsMaterial | undefined;
  /** ACCESS_FILE's credentials; undefined: no credential asked for. */
  access?: AccessList | undefined;
  /** CONTENT_TYPES: a string's Content-Type by key suffix (`suffix=type,…`); default none. */
  contentTypes?: string;
}

/** The client-facing node:http server and the `Sink` that answers its requests. */
export class HttpFront implements Sink {
  readonly protocol = Protocol.Http;
  readonly server: http.Server;
  /** Requests handled, by method and status (`counts[method * STATUSES + status]`): a view into the acceptor's stats. */
  readonly counts: Float64Array;
  readonly #stats: Float64Array;
  readonly #limit: ConnectionLimit;
  /** Set when the proxy stops: answers close their connection instead of keeping it alive. */
  draining = false;
  readonly #dispatcher: Dispatcher;
  readonly #shards: number;
  readonly #maxKeyBytes: number;
  readonly #keyPrefix: string;
  readonly #access: AccessList | undefined;
  readonly #keyErrors: Canned[];
  readonly #ages: AgeStrings;
  readonly #contentTypes: [string, string][];

  constructor(dispatcher: Dispatcher, options: FrontOptions) {
    this.#dispatcher = dispatcher;
    this.#shards = dispatcher.shards;
    this.#maxKeyBytes = options.maxKeyBytes;
    this.#keyPrefix = options.keyPrefix;
    this.#access = options.access;
    this.#keyErrors = Object.values(KeyError).map((e) => KEY_ERRORS[e](options.maxKeyBytes));
    this.#ages = new AgeStrings(options.cacheTtlMs, options.staleIfErrorMs, options.staleWhileRevalidateMs ?? 0);
    this.#contentTypes = parseContentTypes(options.contentTypes ?? '');
    this.#stats = options.stats;
    this.counts = httpCounts(options.stats);
    this.#limit = options.limit;
    const serverOptions: http.ServerOptions = {
      // A key may arrive fully percent-encoded: three bytes of target per key
      // byte, plus room for ordinary headers.
      maxHeaderSize: Math.max(16384, options.maxKeyBytes * 3 + 8192),
      // Slow clients (slowloris) get 408 and lose the connection; node
      // checks these deadlines every connectionsCheckingInterval.
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, Math.ceil(options.headersTimeoutMs / 4)),
    };
    this.server =
      options.tls === undefined
        ? http.createServer(serverOptions, this.#onRequest)
        : // A handshake is part of sending the headers: a client that stalls in it is cut as soon.
          https.createServer(
            { ...serverOptions, ...serverTlsOptions(options.tls), handshakeTimeout: options.headersTimeoutMs },
            this.#onRequest,
          );
    // With TLS too this is the TCP accept: handshakes in progress count against MAX_CONNECTIONS.
    this.server.on('connection', this.#onConnection);
  }

  /** Requests that reached the handler; after a drain, equal to the sum of `counts`. */
  get received(): number {
    return this.#stats[AcceptorStat.Received]!;
  }

  readonly #onConnection = (socket: net.Socket): void => {
    this.#limit.admit(socket);
  };

  readonly #onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    this.#stats[AcceptorStat.Received]!++;
    if (this.draining) res.shouldKeepAlive = false;
    const method = req.method;
    const flags = method === 'HEAD' ? HEAD : 0;
    if (method !== 'GET' && flags === 0) return this.#send(res, METHOD_NOT_ALLOWED, OTHER);
    // With ACCESS_FILE, the credential before anything about the key, and its scope before the cache:
    // an out-of-scope key is refused alike whether it is cached or not, and never reaches Redis.
    const access = this.#access;
    const credential = access === undefined ? undefined : credentialOf(access, req);
    if (credential === undefined && access !== undefined) return this.#send(res, UNAUTHORIZED, flags);
    const key = decodeKey(req.url!, this.#maxKeyBytes);
    if (typeof key === 'number') return this.#send(res, this.#keyErrors[key]!, flags);
    if (this.#keyPrefix !== '' && !key.startsWith(this.#keyPrefix)) return this.#send(res, FORBIDDEN, flags);
    if (credential !== undefined && !credential.scope.allows(key)) return this.#send(res, OUT_OF_SCOPE, flags);
    const q = req.url!.indexOf('?');
    const view = q < 0 ? undefined : viewOf(req.url!, q, key, this.#maxKeyBytes);
    if (typeof view === 'string') return this.#send(res, canned(400, view), flags);
    if (view === undefined) this.#dispatcher.submit(shardOf(key, this.#shards), key, this, res, flags);
    else this.#dispatcher.submitCommand(shardOf(key, this.#shards), key, view, view.length, this, res, flags | VIEW);
  };

  /** Called by the dispatcher with a shard's result. */
  answer(
    token: unknown,
    flags: number,
    code: number,
    value: Buffer | undefined,
    ageMs: number,
    etag: string | undefined,
    lifeMs: number,
  ): void {
    const res = token as http.ServerResponse;
    if (code === Outcome.WrongType && !(flags & VIEW)) {
      // A GET of a hash, list, set or sorted set read from Redis now (a hit answers its JSON at once): ask for its JSON.
      const key = decodeKey(res.req.url!, this.#maxKeyBytes) as string;
      this.#dispatcher.submitCommand(shardOf(key, this.#shards), key, [HTTP_VIEWS.Json, key], 2, this, res, (flags & HEAD) | VIEW);
      return;
    }
    if (code >= 0) {
      const type = flags & ENCODED_ANSWER ? JSON_TYPE : flags & VIEW || this.#contentTypes.length === 0 ? OCTET_STREAM : this.#typeOf(res);
      flags &= HEAD;
      const ages = this.#ages;
      if (etag !== undefined && matchesEtag(ifNoneMatch(res.req.rawHeaders), etag)) {
        this.counts[flags * STATUSES + 304]!++;
        res.writeHead(304, ['ETag', etag, 'Cache-Control', ages.maxAge(ageMs, lifeMs), 'Age', ages.age(ageMs)]);
        res.end();
        return;
      }
      this.counts[flags * STATUSES + 200]!++;
      const length = String(code);
      res.writeHead(
        200,
        etag === undefined
          ? ['Content-Type', type, 'Content-Length', length, 'Cache-Control', ages.maxAge(ageMs, lifeMs), 'Age', ages.age(ageMs)]
          : [
              'Content-Type',
              type,
              'Content-Length',
              length,
              'Cache-Control',
              ages.maxAge(ageMs, lifeMs),
              'Age',
              ages.age(ageMs),
              'ETag',
              etag,
            ],
      );
      res.end(flags & HEAD ? undefined : value);
    } else if (code === Outcome.NotFound) {
      flags &= HEAD;
      this.counts[flags * STATUSES + 404]!++;
      res.writeHead(404, NOT_FOUND_HEADERS);
      res.end();
    } else {
      this.#send(res, OUTCOMES[code as keyof typeof OUTCOMES], flags & HEAD);
    }
  }

  /** The Content-Type of the string answered to `res` (CONTENT_TYPES by its key's suffix). */
  #typeOf(res: http.ServerResponse): string {
    return contentTypeOf(this.#contentTypes, res.req.url!, this.#maxKeyBytes, OCTET_STREAM);
  }

  /** Whether the response `token` has been written out whole: it holds no view of a reply batch any more. */
  released(token: unknown): boolean {
    return (token as http.ServerResponse).writableFinished;
  }

  /** Sends a canned answer; `method` is the `METHODS` index (equal to the HEAD flag for GET and HEAD). */
  #send(res: http.ServerResponse, answer: Canned, method: number): void {
    this.counts[method * STATUSES + answer.status]!++;
    res.writeHead(answer.status, answer.headers);
    res.end(method === HEAD ? undefined : answer.body);
  }
}
