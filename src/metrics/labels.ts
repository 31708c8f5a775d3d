/**
 * The label values of the request counters, by index: a counter slot is
 * `[row * columns.length + column]`, and these tables name the rows and
 * columns. A leaf (it imports nothing), so that the RESP front end, which
 * counts, and the metrics and status page, which read, share one table and
 * not each other's code.
 */

/**
 * The `command` label of each RESP command index: the supported commands, in
 * the order the RESP front end keeps them (AUTH, HELLO and QUIT first: the
 * commands Redis runs before authentication), then `other` (unknown commands,
 * protocol errors).
 */
export const RESP_COMMANDS = [
  'AUTH',
  'HELLO',
  'QUIT',
  'GET',
  'MGET',
  'PING',
  'ECHO',
  'SELECT',
  'CLIENT',
  'COMMAND',
  'CONFIG',
  'INFO',
  'MULTI',
  'EXEC',
  'DISCARD',
  'WATCH',
  'UNWATCH',
  'EXISTS',
  'TYPE',
  'TTL',
  'PTTL',
  'STRLEN',
  'GETRANGE',
  'HGET',
  'HMGET',
  'HGETALL',
  'HKEYS',
  'HVALS',
  'HLEN',
  'HEXISTS',
  'HSTRLEN',
  'LRANGE',
  'LINDEX',
  'LLEN',
  'SMEMBERS',
  'SISMEMBER',
  'SMISMEMBER',
  'SCARD',
  'ZRANGE',
  'ZRANGEBYSCORE',
  'ZSCORE',
  'ZMSCORE',
  'ZCARD',
  'ZRANK',
  'ZREVRANK',
  'other',
] as const;
/** A supported RESP command's name. */
export type RespCommand = Exclude<(typeof RESP_COMMANDS)[number], 'other'>;

/**
 * The `status` label of a counted RESP command, by index, in rising order of
 * severity: a command's status is the worst of its reply's slots. An MGET's
 * array header is `ok`, so an MGET of absent keys is `ok`, and one element
 * shed or failed makes it `shed` or `error`.
 */
export const RESP_STATUSES = ['nil', 'ok', 'shed', 'error'] as const;

/**
 * The `family` label of the typed commands the shards answer from cached
 * entries of any type (`src/shard/commands/table.ts`), by index: EXISTS,
 * TYPE, TTL, PTTL, STRLEN and GETRANGE are `keys`.
 */
export const TYPED_FAMILIES = ['keys', 'hash', 'list', 'set', 'zset'] as const;
