/**
 * Reading a batch's values with their keys' TTLs in one round trip: one Lua
 * script per batch (EVALSHA; EVAL once when Redis answers NOSCRIPT, after a
 * restart say), which answers the batch's MGET and each
 * key's `PTTL`; a nil whose key exists is a key of another type.
 *
 * Why PTTL and not PEXPIRETIME: the shard turns the answer into an absolute
 * expiry on its own monotonic clock, as `start of the command + PTTL`. That is
 * never later than Redis's own expiry (Redis read the TTL after the command
 * left), and needs no agreement between the two machines' wall clocks, which
 * PEXPIRETIME (a Unix time of Redis's clock) would. Inside a script Redis's
 * clock stands still, so the value and its TTL are read at one instant, and
 * PTTL works on every Redis that has scripts, 7 or older.
 *
 * Why a script rather than MGET pipelined with one PTTL per key: the same
 * round trip, but one command to parse and answer instead of 1 + n, and the
 * nil of an absent key and of a key of another type told apart in the same
 * reply (MGET answers nil for both, and each nil then cost a GET).
 * docs/coherence.md has the measurement.
 *
 * On a cluster the keys of one batch almost never share a hash slot, so the
 * script runs once per key, through the cluster client (as GET did).
 */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { NO_LIFE } from '../../cache/entry-view.js';
import { Outcome } from '../../hop/vocabulary.js';
import type { FetchWithLife, Lived } from '../batch-fetch.js';
import { outcomeOf } from './redis.js';

/**
 * One MGET for the values, then one PTTL per key: `{values, ttls}`. A nil
 * value whose key exists (PTTL is not -2) is a key of another type.
 */
export const SCRIPT = `local ttls = {}
for i = 1, #KEYS do ttls[i] = redis.call('PTTL', KEYS[i]) end
return {redis.call('MGET', unpack(KEYS)), ttls}`;

/** PTTL of a key that does not exist. */
const ABSENT_TTL = -2;

type Scripted = (numKeys: number, ...keys: Buffer[]) => Promise<[(Buffer | null)[], number[]]>;

/** The script's SHA1, as EVALSHA names it. */
const SHA = createHash('sha1').update(SCRIPT).digest('hex');

/**
 * The script's call on `client` (a connection or a cluster client): a plain
 * EVALSHA, and EVAL once more when Redis does not know the script
 * (NOSCRIPT, after a restart or a failover), which loads it for the next
 * calls. Not ioredis' `defineCommand`, whose every call wraps its command's
 * reject and promise in closures of their own.
 */
function define(client: Redis | Cluster): Scripted {
  const again = (numKeys: number, keys: Buffer[]) => (err: Error) => {
    if (!err.message.startsWith('NOSCRIPT')) throw err;
    return client.callBuffer('eval', SCRIPT, numKeys, ...keys);
  };
  return (numKeys, ...keys) =>
    (client.callBuffer('evalsha', SHA, numKeys, ...keys) as Promise<unknown>).catch(again(numKeys, keys)) as Promise<
      [(Buffer | null)[], number[]]
    >;
}

/** The script's reply as `Lived`. */
function lived(reply: [(Buffer | null)[], number[]], count: number): Lived {
  const [found, ttls] = reply;
  const values: (Buffer | Outcome)[] = new Array(count);
  const lives: number[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const value = found[i];
    const ttl = ttls[i]!;
    if (value === null || value === undefined) {
      values[i] = ttl === ABSENT_TTL ? Outcome.NotFound : Outcome.WrongType;
      lives[i] = NO_LIFE;
    } else {
      values[i] = value;
      // -1: no TTL. A TTL of 0 left is an expiry now.
      lives[i] = ttl < 0 ? NO_LIFE : ttl;
    }
  }
  return { values, lives };
}

/** A `FetchWithLife` of one script per batch on a standalone (or sentinel-found) connection. */
export function redisFetchWithLife(redis: Redis): FetchWithLife {
  const run = define(redis);
  return (keys) => run(keys.length, ...keys).then((reply) => lived(reply, keys.length), outcomeOf);
}

/**
 * A `FetchWithLife` for a cluster: the script once per key (keys of a
 * batch lie in different slots). `cork` is called first, once per batch, so
 * that the turn's scripts leave in one write per node (cluster.ts).
 */
export function clusterFetchWithLife(cluster: Cluster, cork: () => void): FetchWithLife {
  const run = define(cluster);
  const one = (key: Buffer): Promise<Lived | Outcome> => run(1, key).then((reply) => lived(reply, 1), outcomeOf);
  return (keys) => {
    cork();
    if (keys.length === 1) return one(keys[0]!);
    return Promise.all(keys.map(one)).then((each) => {
      const values: (Buffer | Outcome)[] = new Array(keys.length);
      const lives: number[] = new Array(keys.length);
      for (let i = 0; i < each.length; i++) {
        const r = each[i]!;
        // One key's failure is that key's outcome, as with one GET per key.
        values[i] = typeof r === 'number' ? r : r.values[0]!;
        lives[i] = typeof r === 'number' ? NO_LIFE : r.lives[0]!;
      }
      return { values, lives };
    });
  };
}
