/**
 * The words every thread shares about a request: the front end it came in
 * by (`Protocol`) and why a key has no value (`Outcome`). A leaf: it imports
 * nothing, so the acceptors, the shards, the metrics and the main thread can
 * all name them without loading one another.
 */
/** The front end a request came in by: a request entry's `meta`, and an index into per-protocol counters. */
export const Protocol = {
  Http: 0,
  Resp: 1,
} as const;
/** One of the `Protocol` values. */
export type Protocol = (typeof Protocol)[keyof typeof Protocol];
/** The `protocol` label of each `Protocol`, by value. */
export const PROTOCOLS = ['http', 'resp'] as const;
/**
 * Request-`meta` bit the RESP acceptor sets on a request whose connection
 * speaks RESP3 (it sent `HELLO 3`), so that the shard can frame typed
 * replies (maps, sets, doubles) for it. The `Protocol` stays in the low
 * bits: a reader masks this bit off before indexing per-protocol counters.
 */
export const RESP3_FLAG = 1 << 29;

/** Negative result codes: why a key has no value to send. */
export const Outcome = {
  /** The key does not exist in Redis. */
  NotFound: -1,
  /** The key holds a list, hash, … (Redis answered WRONGTYPE). */
  WrongType: -2,
  /** Redis is unreachable or did not answer within REDIS_TIMEOUT_MS. */
  Unavailable: -3,
  /** Redis answered with an error other than WRONGTYPE. */
  RedisError: -4,
  /** The shard worker died with the request in flight. */
  ShardDown: -5,
  /** A miss refused by the shard: MAX_INFLIGHT requests were already waiting on Redis (`MissLimit`). */
  Overloaded: -6,
  /** The shard's hand-off bound was reached (never sent; answered by the dispatcher, `handOffBound`). */
  QueueFull: -7,
} as const;
/** One of the `Outcome` codes. */
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/**
 * The HTTP views of a hash, list, set or sorted set, as the command names
 * the HTTP front end sends its key's shard (`addCommand`): the whole value
 * as JSON, one hash field's bytes (`?field=`), a range of a list or sorted
 * set (`?start=&stop=`). The RESP table has no such names, so no RESP
 * client can send them.
 */
export const HTTP_VIEWS = { Json: 'HTTP.JSON', Field: 'HTTP.FIELD', Range: 'HTTP.RANGE' } as const;
