/**
 * Reading keys of any type whole, with their type and TTL, in one round
 * trip: one Lua script per batch (EVALSHA, EVAL once on NOSCRIPT) that runs
 * TYPE, the type's full read (GET, HGETALL, LRANGE 0 -1, SMEMBERS, ZRANGE 0
 * -1 WITHSCORES) and PTTL for each key. A script is atomic, so a key whose
 * type changes between the TYPE and the read cannot be answered with a mix.
 *
 * The string path does not come here (`expiry-read.ts` reads strings): a
 * shard reads a key with this script when a typed command (HGET, …) misses,
 * or when the string read found the key to be of another type.
 *
 * Each key lands as a *tagged* value: its first byte is 0 for a string
 * (then its bytes), else the `Kind` of a typed value (`encodeTyped`, whose
 * own first byte is that kind).
 */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { NO_LIFE } from '../../cache/entry-view.js';
import { encodeTyped, Kind, TypedView, withJson } from '../../cache/typed-value.js';
import { valueJson } from '../commands/http-views.js';
import { JsonWriter } from '../commands/json-writer.js';
import { Outcome } from '../../hop/vocabulary.js';
import type { FetchWithLife, Lived } from '../batch-fetch.js';
import { outcomeOf } from './redis.js';

/** `{type, whole value, pttl}` per key. */
export const TYPED_SCRIPT = `local out = {}
for i = 1, #KEYS do
  local k = KEYS[i]
  local t = redis.call('TYPE', k).ok
  local v = false
  if t == 'string' then v = redis.call('GET', k)
  elseif t == 'hash' then v = redis.call('HGETALL', k)
  elseif t == 'list' then v = redis.call('LRANGE', k, 0, -1)
  elseif t == 'set' then v = redis.call('SMEMBERS', k)
  elseif t == 'zset' then v = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES') end
  out[i] = {t, v, redis.call('PTTL', k)}
end
return out`;

const SHA = createHash('sha1').update(TYPED_SCRIPT).digest('hex');

type Reply = [type: Buffer, value: Buffer | Buffer[] | null, pttl: number][];

const KINDS: Record<string, Kind> = { hash: Kind.Hash, list: Kind.List, set: Kind.Set, zset: Kind.Zset };

/** A tagged string: kind byte 0, then its bytes. */
function taggedString(value: Buffer): Buffer {
  const out = Buffer.allocUnsafe(value.length + 1);
  out[0] = 0;
  value.copy(out, 1);
  return out;
}

/** One key's part of the script's reply as a tagged value or `NotFound`. */
function tagged(type: string, value: Buffer | Buffer[] | null): Buffer | Outcome {
  if (type === 'none') return Outcome.NotFound;
  if (type === 'string') return taggedString(value as Buffer);
  const kind = KINDS[type];
  if (kind === undefined) return encodeTyped(Kind.Stream, []);
  // The JSON over HTTP, rendered once here rather than on every GET.
  const encoded = encodeTyped(kind, Array.isArray(value) ? value : []);
  valueJson(view.reset(encoded, 0), json.reset());
  return withJson(encoded, json.buf, 0, json.length);
}

const view = new TypedView();
const json = new JsonWriter();

function lived(reply: Reply): Lived {
  const values: (Buffer | Outcome)[] = new Array(reply.length);
  const lives: number[] = new Array(reply.length);
  for (let i = 0; i < reply.length; i++) {
    const [type, value, pttl] = reply[i]!;
    values[i] = tagged(type.toString('latin1'), value);
    lives[i] = pttl < 0 ? NO_LIFE : pttl;
  }
  return { values, lives };
}

/** The script on `client`: EVALSHA, and EVAL once more on NOSCRIPT (which loads it). */
function run(client: Redis | Cluster, keys: Buffer[]): Promise<Lived | Outcome> {
  return (client.callBuffer('evalsha', SHA, keys.length, ...keys) as Promise<Reply>)
    .catch((err: Error) => {
      if (!err.message.startsWith('NOSCRIPT')) throw err;
      return client.callBuffer('eval', TYPED_SCRIPT, keys.length, ...keys) as Promise<Reply>;
    })
    .then(lived, outcomeOf);
}

/** Typed reads of a standalone (or sentinel-found) server: one script per batch. */
export function redisFetchTyped(redis: Redis): FetchWithLife {
  return (keys) => run(redis, keys);
}

/** Typed reads on a cluster: the script once per key (a batch's keys lie in different slots), corked per batch. */
export function clusterFetchTyped(cluster: Cluster, cork: () => void): FetchWithLife {
  return (keys) => {
    cork();
    return Promise.all(keys.map((key) => run(cluster, [key]))).then((each) => {
      const values: (Buffer | Outcome)[] = [];
      const lives: number[] = [];
      for (const r of each) {
        // One key's failure is that key's outcome.
        values.push(typeof r === 'number' ? r : r.values[0]!);
        lives.push(typeof r === 'number' ? NO_LIFE : r.lives[0]!);
      }
      return { values, lives };
    });
  };
}
