/**
 * The HTTP front end: `node:http` request → key → shard, and shard result →
 * response. This is the hot path; it allocates one small header array per
 * answered value and nothing per request besides what node:http itself does.
 */
import http from 'node:http';
import type { Dispatcher, Sink } from '../hop/dispatcher.js';
import { Outcome } from '../hop/wire.js';
import { shardOf } from '../routing/hash.js';
import { decodeKey, KeyError } from './key.js';

/** `flags` bit: answer without a body. */
const HEAD = 1;

const OCTET_STREAM = 'application/octet-stream';
const NOT_FOUND_HEADERS = ['Content-Length', '0'];

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
const KEY_ERRORS: Record<KeyError, (maxKeyBytes: number) => Canned> = {
  [KeyError.NotOriginForm]: () => canned(400, 'bad request target: it must start with /'),
  [KeyError.Empty]: () => canned(400, 'empty key: GET /<percent-encoded key>'),
  [KeyError.BadEscape]: () => canned(400, 'malformed percent-encoding in key'),
  [KeyError.TooLong]: (max) => canned(400, `key longer than MAX_KEY_BYTES (${max} bytes)`),
};
const OUTCOMES: Record<Exclude<Outcome, typeof Outcome.NotFound>, Canned> = {
  [Outcome.WrongType]: canned(409, 'key holds a non-string Redis type (WRONGTYPE); only strings can be served'),
  [Outcome.Unavailable]: canned(503, 'redis unavailable or slower than REDIS_TIMEOUT_MS', ['Retry-After', '1']),
  [Outcome.RedisError]: canned(502, 'redis answered with an error'),
  [Outcome.ShardDown]: canned(503, 'shard restarting', ['Retry-After', '1']),
};

export interface FrontOptions {
  maxKeyBytes: number;
  maxConnections: number;
}

export class HttpFront implements Sink {
  readonly server: http.Server;
  readonly #dispatcher: Dispatcher;
  readonly #shards: number;
  readonly #maxKeyBytes: number;
  readonly #keyErrors: Canned[];

  constructor(dispatcher: Dispatcher, options: FrontOptions) {
    this.#dispatcher = dispatcher;
    this.#shards = dispatcher.shards;
    this.#maxKeyBytes = options.maxKeyBytes;
    this.#keyErrors = Object.values(KeyError).map((e) => KEY_ERRORS[e](options.maxKeyBytes));
    this.server = http.createServer(
      // A key may arrive fully percent-encoded: three bytes of target per key
      // byte, plus room for ordinary headers.
      { maxHeaderSize: Math.max(16384, options.maxKeyBytes * 3 + 8192) },
      this.#onRequest,
    );
    this.server.maxConnections = options.maxConnections;
  }

  readonly #onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const method = req.method;
    const flags = method === 'HEAD' ? HEAD : 0;
    if (method !== 'GET' && flags === 0) return send(res, METHOD_NOT_ALLOWED, 0);
    const key = decodeKey(req.url!, this.#maxKeyBytes);
    if (typeof key === 'number') return send(res, this.#keyErrors[key]!, flags);
    this.#dispatcher.submit(shardOf(key, this.#shards), key, this, res, flags);
  };

  /** Called by the dispatcher with a shard's result. */
  answer(token: unknown, flags: number, code: number, value: Buffer | undefined): void {
    const res = token as http.ServerResponse;
    if (code >= 0) {
      res.writeHead(200, ['Content-Type', OCTET_STREAM, 'Content-Length', String(code)]);
      res.end(flags & HEAD ? undefined : value);
    } else if (code === Outcome.NotFound) {
      res.writeHead(404, NOT_FOUND_HEADERS);
      res.end();
    } else {
      send(res, OUTCOMES[code as keyof typeof OUTCOMES], flags);
    }
  }
}

function send(res: http.ServerResponse, answer: Canned, flags: number): void {
  res.writeHead(answer.status, answer.headers);
  res.end(flags & HEAD ? undefined : answer.body);
}
