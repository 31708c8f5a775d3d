/**
 * Reading a batch's values with their keys' TTLs in one round trip: a plain
 * `MGET` of the batch, and right behind it, in the same write, one Lua
 * script (EVALSHA; EVAL once when Redis answers NOSCRIPT, after a restart
 * say) that answers each key's `PTTL`. A batch of one key, and every key on
 * a cluster, is read by one script that answers both (`SCRIPT`).
 *
 * Why the TTL script takes its keys as ARGV, not KEYS, and why the MGET
 * stays outside it: Redis 7.0 (7.0.15 measured here) remembers, for client tracking,
 * the keys *declared by the script* on every read command the script runs,
 * so a script of n keys running n + 1 reads inserts n(n + 1) keys into the
 * tracking table. With 32 keys that made Redis's CPU per key 4.1 µs against
 * 2.4 µs this way (docs/coherence.md). The MGET outside tracks each key
 * once, which is all coherence needs: a change to a key's value or TTL after
 * it is then invalidated like any other.
 *
 * Why PTTL and not PEXPIRETIME: the shard turns the answer into an absolute
 * expiry on its own monotonic clock, as `start of the command + PTTL`. That is
 * never later than Redis's own expiry (Redis read the TTL after the command
 * left), and needs no agreement between the two machines' wall clocks, which
 * PEXPIRETIME (a Unix time of Redis's clock) would; PTTL also works on Redis
 * before 7.
 *
 * The PTTLs run just after the MGET, not at the same instant (inside one
 * script Redis's clock stands still). In between, a key may change: a value
 * read and then deleted or expired (PTTL -2) lands with no life left (its
 * waiting readers get it, nothing keeps it); any other change sends the
 * tracking invalidation that the MGET armed. A nil whose key then exists is
 * a key of another type, or one created in between: such a key is read once
 * more by `SCRIPT`, which tells the two apart at one instant.
 *
 * Why not MGET pipelined with one PTTL per key: one ioredis command per key
 * cost the client 2.5 times the CPU of this way (docs/coherence.md).
 *
 * On a cluster the keys of one batch almost never share a hash slot, so
 * `SCRIPT` runs once per key, through the cluster client (as GET did).
 */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { NO_LIFE } from '../../cache/entry-view.js';
import { Outcome } from '../../hop/vocabulary.js';
import type { FetchWithLife, Lived } from '../batch-fetch.js';
import { outcomeOf } from './redis.js';

/**
 * One MGET for the values, then one PTTL per key: `{values, ttls}`, read at
 * one instant. A nil value whose key exists (PTTL is not -2) is a key of
 * another type.
 */
export const SCRIPT = `local ttls = {}
for i = 1, #KEYS do ttls[i] = redis.call('PTTL', KEYS[i]) end
return {redis.call('MGET', unpack(KEYS)), ttls}`;

/** Each key's PTTL, the keys given as ARGV (see above): the values come from the MGET sent just before. */
export const TTL_SCRIPT = `local t = {}
for i = 1, #ARGV do t[i] = redis.call('PTTL', ARGV[i]) end
return t`;

/** PTTL of a key that does not exist. */
const ABSENT_TTL = -2;

type Scripted<R> = (numKeys: number, ...args: Buffer[]) => Promise<R>;
type Both = [(Buffer | null)[], number[]];

/**
 * `script`'s call on `client` (a connection or a cluster client): a plain
 * EVALSHA, and EVAL once more when Redis does not know the script
 * (NOSCRIPT, after a restart or a failover), which loads it for the next
 * calls. Not ioredis' `defineCommand`, whose every call wraps its command's
 * reject and promise in closures of their own.
 */
function define<R>(client: Redis | Cluster, script: string): Scripted<R> {
  const sha = createHash('sha1').update(script).digest('hex');
  const again = (numKeys: number, args: Buffer[]) => (err: Error) => {
    if (!err.message.startsWith('NOSCRIPT')) throw err;
    return client.callBuffer('eval', script, numKeys, ...args);
  };
  return (numKeys, ...args) =>
    (client.callBuffer('evalsha', sha, numKeys, ...args) as Promise<unknown>).catch(again(numKeys, args)) as Promise<R>;
}

/**
 * Values and PTTLs as `Lived`. A nil whose key exists is answered
 * `WrongType`, which is sure when both were read at one instant (`SCRIPT`);
 * when they were not, pass `unsure`, and each such index is pushed there to
 * be read again.
 */
function lived(found: readonly (Buffer | null)[], ttls: readonly number[], count: number, unsure?: number[]): Lived {
  const values: (Buffer | Outcome)[] = new Array(count);
  const lives: number[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const value = found[i];
    const ttl = ttls[i]!;
    if (value === null || value === undefined) {
      if (ttl !== ABSENT_TTL && unsure !== undefined) unsure.push(i);
      values[i] = ttl === ABSENT_TTL ? Outcome.NotFound : Outcome.WrongType;
      lives[i] = NO_LIFE;
    } else {
      values[i] = value;
      // -1: no TTL. -2: gone since the MGET read it; 0 left is an expiry now.
      lives[i] = ttl === ABSENT_TTL ? 0 : ttl < 0 ? NO_LIFE : ttl;
    }
  }
  return { values, lives };
}

/**
 * The MGET's values and the TTL script's PTTLs as `Lived`, once the keys
 * whose nil is unsure (above) have been read again with `one`.
 */
export function combine(
  found: readonly (Buffer | null)[],
  ttls: readonly number[],
  keys: readonly Buffer[],
  one: FetchWithLife,
): Lived | Promise<Lived> {
  const unsure: number[] = [];
  const out = lived(found, ttls, keys.length, unsure);
  if (unsure.length === 0) return out;
  return Promise.all(unsure.map((i) => one([keys[i]!]))).then((again) => {
    for (let j = 0; j < unsure.length; j++) {
      const r = again[j]!;
      const i = unsure[j]!;
      out.values[i] = typeof r === 'number' ? r : r.values[0]!;
      out.lives[i] = typeof r === 'number' ? NO_LIFE : r.lives[0]!;
    }
    return out;
  });
}

/** A `FetchWithLife` on a standalone (or sentinel-found) connection: MGET and the TTL script, in one write. */
export function redisFetchWithLife(redis: Redis): FetchWithLife {
  const both = define<Both>(redis, SCRIPT);
  const ttls = define<number[]>(redis, TTL_SCRIPT);
  const one: FetchWithLife = (keys) => both(keys.length, ...keys).then((r) => lived(r[0], r[1], keys.length), outcomeOf);
  return (keys) => {
    if (keys.length === 1) return one(keys);
    // Corked: the two commands leave in one system call and arrive together.
    const stream = redis.status === 'ready' ? redis.stream : undefined;
    stream?.cork();
    const values = redis.mgetBuffer(keys);
    const lives = ttls(0, ...keys);
    stream?.uncork();
    return Promise.all([values, lives]).then((r) => combine(r[0], r[1], keys, one), outcomeOf);
  };
}

/**
 * A `FetchWithLife` for a cluster: `SCRIPT` once per key (keys of a
 * batch lie in different slots). `cork` is called first, once per batch, so
 * that the turn's scripts leave in one write per node (cluster.ts).
 */
export function clusterFetchWithLife(cluster: Cluster, cork: () => void): FetchWithLife {
  const run = define<Both>(cluster, SCRIPT);
  const one = (key: Buffer): Promise<Lived | Outcome> => run(1, key).then((r) => lived(r[0], r[1], 1), outcomeOf);
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
