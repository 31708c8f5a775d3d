/**
 * What a slot of a RESP reply amounts to: the reply bytes of each shard
 * `Outcome`, and the outcome label a command is counted under in
 * `shardcache_requests_total{protocol="resp"}`.
 */
import { Outcome } from '../../hop/vocabulary.js';
import { error, NULL3, NULL_BULK } from './reply.js';

/** The reply to a GET answered with an `Outcome` instead of a value. */
export const OUTCOME_REPLIES: Record<number, Buffer> = {
  [Outcome.NotFound]: NULL_BULK,
  [Outcome.WrongType]: error('WRONGTYPE Operation against a key holding the wrong kind of value'),
  [Outcome.Unavailable]: error('ERR redis unavailable or slower than REDIS_TIMEOUT_MS, try again'),
  [Outcome.RedisError]: error('ERR redis answered with an error'),
  [Outcome.ShardDown]: error('ERR shard restarting, try again'),
  [Outcome.Overloaded]: error('ERR shard overloaded: MAX_INFLIGHT requests waiting on redis, try again'),
  [Outcome.QueueFull]: error('ERR shard queue full: too many requests handed to the shard, try again'),
};

/** Indices into `RESP_STATUSES` (metrics/labels.ts). */
export const NIL = 0;
export const OK = 1;
const SHED = 2;
const ERROR = 3;

/** Status of a slot answered with an `Outcome`, indexed by `-outcome`: absent is `nil`, refused for load `shed`. */
export const OUTCOME_STATUS = ((): Uint8Array => {
  const status = new Uint8Array(1 - Math.min(...Object.values(Outcome))).fill(ERROR);
  status[-Outcome.NotFound] = NIL;
  status[-Outcome.Overloaded] = SHED;
  status[-Outcome.QueueFull] = SHED;
  return status;
})();

const MINUS = 0x2d;

/**
 * Status of a reply made at once: a null (CLIENT GETNAME, or a GET's nil in
 * RESP3) is `nil`, an error reply `error`, the rest `ok`.
 */
export function readyStatus(bytes: Buffer): number {
  return bytes === NULL_BULK || bytes === NULL3 ? NIL : bytes[0] === MINUS ? ERROR : OK;
}
