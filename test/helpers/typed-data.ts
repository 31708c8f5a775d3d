/**
 * Generated data of every Redis type and generated read commands on it, for
 * the differential test (the same command to Redis and to the proxy, the
 * replies compared byte for byte). Seeded: a failing run replays exactly.
 */
import type { Redis } from 'ioredis';
import { seededRandom } from './random.js';

/** The keys the data is written under, by type; `missing` are never written. */
export interface TypedKeys {
  string: string[];
  hash: string[];
  list: string[];
  set: string[];
  zset: string[];
  missing: string[];
  /** Fields, members and elements used in the data, and some that are not. */
  words: string[];
}

const BINARY = '\u0000\u00ff\r\n\u00e9';

/** Writes the data: empty and binary keys and values, empty-string fields, sets of every encoding, zsets with ties and infinities. */
export async function writeTypedData(redis: Redis, seed: number): Promise<TypedKeys> {
  const random = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const words = ['a', 'b', 'c', 'f1', 'f2', '', ' ', 'member', BINARY, 'zz', '10', '-1', '3.5', 'long-field-name-'.repeat(4)];
  for (let i = 0; i < 40; i++) words.push(`w${i}`);
  const b = (s: string): Buffer => Buffer.from(s, 'latin1');
  const keys: TypedKeys = { string: [], hash: [], list: [], set: [], zset: [], missing: ['nokey', `no${BINARY}`], words };
  const sizes = [1, 2, 5, 20, 200];
  // The empty key and a binary key hold a hash and a list.
  keys.hash.push('');
  await redis.hset(b(''), b('f1'), b('v1'), b(''), b('empty field'));
  keys.list.push(BINARY);
  await redis.rpush(b(BINARY), b('x'), b(''), b(BINARY));
  for (let k = 0; k < 5; k++) {
    const n = sizes[k]!;
    const s = `s${k}`;
    keys.string.push(s);
    await redis.set(b(s), b(k === 0 ? '' : k === 1 ? BINARY : 'value-'.repeat(k * 3)));
    const h = `h${k}`;
    keys.hash.push(h);
    for (let i = 0; i < n; i++) await redis.hset(b(h), b(i < words.length ? words[i]! : `f${i}`), b(i % 3 === 0 ? '' : `v${i}${BINARY}`));
    const l = `l${k}`;
    keys.list.push(l);
    for (let i = 0; i < n; i++) await redis.rpush(b(l), b(pick(words)));
    const st = `st${k}`;
    keys.set.push(st);
    // Integers (intset), short words (listpack), many (hashtable).
    for (let i = 0; i < n; i++) await redis.sadd(b(st), b(k === 2 ? String(i * 7 - 3) : i < words.length ? words[i]! : `m${i}`));
    const z = `z${k}`;
    keys.zset.push(z);
    for (let i = 0; i < n; i++) {
      const score = pick(['0', '1', '1', '-2.5', '0.1', '1e20', 'inf', '-inf', String(i), String(-i)]);
      await redis.zadd(b(z), score, b(i < words.length ? words[i]! : `m${i}`));
    }
  }
  // Lex ranges are defined on equal scores: one zset where all are 0.
  keys.zset.push('zlex');
  for (const w of words) await redis.zadd(b('zlex'), 0, b(w));
  // Empty collections do not exist in Redis: a key emptied is gone.
  await redis.rpush('emptied', 'x');
  await redis.lpop('emptied');
  keys.missing.push('emptied');
  await redis.expire(b('h1'), 100000);
  await redis.pexpire(b('l1'), 5000000);
  await redis.xadd('stream1', '*', 'f', 'v');
  // A large set or hash is a hash table that Redis grows by rehashing a
  // bucket per lookup: until that is done its own iteration order (SMEMBERS,
  // HGETALL) changes with no write. Enough lookups finish it.
  for (let k = 0; k < 5; k++)
    for (let i = 0; i < 1000; i++) {
      await redis.sismember(`st${k}`, 'x');
      await redis.hexists(`h${k}`, 'x');
    }
  keys.string.push('stream1');
  return keys;
}

/** Index-like arguments: negatives, out of range, not integers. */
const INDEXES = [
  '0',
  '1',
  '2',
  '-1',
  '-2',
  '5',
  '-5',
  '100',
  '-100',
  '199',
  '9223372036854775807',
  '-9223372036854775808',
  '9223372036854775808',
  'x',
  '1.5',
  '',
  '-0',
  '007',
  '+1',
  ' 1',
];
const SCORES = [
  '-inf',
  '+inf',
  'inf',
  '0',
  '1',
  '(1',
  '(0',
  '-2.5',
  '(-2.5',
  '1e20',
  '(1e20',
  '0.1',
  'abc',
  '',
  '(',
  '1e',
  ' 1',
  'nan',
  '-inf',
  '3',
  '(inf',
];
const LEX = ['-', '+', '[a', '(a', '[w1', '(w3', '[', '(', 'a', '[zz', '(zz', '+x', '-', '+'];

/** A generated read command, as its arguments (binary strings). */
export function typedCommands(keys: TypedKeys, count: number, seed: number): string[][] {
  const random = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const all = [...keys.string, ...keys.hash, ...keys.list, ...keys.set, ...keys.zset, ...keys.missing];
  // Mostly a key of the command's type, sometimes any key (WRONGTYPE, absent).
  const key = (own: string[]): string => (random() < 0.75 ? pick(own) : pick(all));
  const word = (): string => pick(keys.words);
  const words = (): string[] => Array.from({ length: 1 + Math.floor(random() * 4) }, word);
  const zrangeOptions = (byscore: boolean): string[] => {
    const out: string[] = [];
    const n = Math.floor(random() * 4);
    for (let i = 0; i < n; i++) {
      const r = random();
      if (r < 0.3) out.push(pick(['WITHSCORES', 'withscores']));
      else if (r < 0.55) out.push('LIMIT', pick(INDEXES), pick(INDEXES));
      else if (r < 0.7) out.push(byscore ? 'BYSCORE' : pick(['BYSCORE', 'BYLEX']));
      else if (r < 0.85) out.push('REV');
      else if (r < 0.9) out.push('LIMIT', pick(INDEXES));
      else out.push(pick(['bogus', 'BYSCORE']));
    }
    return out;
  };
  const makers: (() => string[])[] = [
    () => ['EXISTS', pick(all)],
    () => ['EXISTS', ...Array.from({ length: 1 + Math.floor(random() * 5) }, () => pick(all))],
    () => ['TYPE', pick(all)],
    () => ['TTL', pick(all)],
    () => ['STRLEN', key(keys.string)],
    () => ['GETRANGE', key(keys.string), pick(INDEXES), pick(INDEXES)],
    () => ['GET', pick(all)],
    () => ['HGET', key(keys.hash), word()],
    () => ['HMGET', key(keys.hash), ...words()],
    () => ['HGETALL', key(keys.hash)],
    () => ['HKEYS', key(keys.hash)],
    () => ['HVALS', key(keys.hash)],
    () => ['HLEN', key(keys.hash)],
    () => ['HEXISTS', key(keys.hash), word()],
    () => ['HSTRLEN', key(keys.hash), word()],
    () => ['LRANGE', key(keys.list), pick(INDEXES), pick(INDEXES)],
    () => ['LINDEX', key(keys.list), pick(INDEXES)],
    () => ['LLEN', key(keys.list)],
    () => ['SMEMBERS', key(keys.set)],
    () => ['SISMEMBER', key(keys.set), word()],
    () => ['SMISMEMBER', key(keys.set), ...words()],
    () => ['SCARD', key(keys.set)],
    () => ['ZRANGE', key(keys.zset), pick(INDEXES), pick(INDEXES), ...zrangeOptions(false)],
    () => ['ZRANGE', key(keys.zset), pick(SCORES), pick(SCORES), 'BYSCORE', ...zrangeOptions(true)],
    () => [
      'ZRANGE',
      'zlex',
      pick(LEX),
      pick(LEX),
      'BYLEX',
      ...(random() < 0.5 ? ['REV'] : []),
      ...(random() < 0.5 ? ['LIMIT', pick(INDEXES), pick(INDEXES)] : []),
    ],
    () => [
      'ZRANGEBYSCORE',
      key(keys.zset),
      pick(SCORES),
      pick(SCORES),
      ...(random() < 0.5 ? ['WITHSCORES'] : []),
      ...(random() < 0.3 ? ['LIMIT', pick(INDEXES), pick(INDEXES)] : []),
    ],
    () => ['ZSCORE', key(keys.zset), word()],
    () => ['ZMSCORE', key(keys.zset), ...words()],
    () => ['ZCARD', key(keys.zset)],
    () => ['ZRANK', key(keys.zset), word()],
    () => ['ZREVRANK', key(keys.zset), word()],
    // Wrong arities.
    () => [pick(['HGET', 'LRANGE', 'ZRANGE', 'SCARD', 'HMGET', 'TYPE', 'ZRANK']), key(keys.hash)],
  ];
  return Array.from({ length: count }, () => {
    const args = pick(makers)();
    // Command names in any case.
    return random() < 0.2 ? [args[0]!.toLowerCase(), ...args.slice(1)] : args;
  });
}
