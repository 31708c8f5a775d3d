/**
 * The typed commands a shard answers from a cached entry, by upper-case
 * name, with the family each is counted under. The RESP front end checks
 * arity and sends the command name and the arguments after the key.
 */
import type { Command } from './found.js';
import { hexists, hget, hgetall, hkeys, hlen, hmget, hstrlen, hvals } from './hash.js';
import { exists, getrange, pttl, strlen, ttl, type } from './keys.js';
import { lindex, llen, lrange } from './list.js';
import { scard, sismember, smembers, smismember } from './set.js';
import { zcard, zmscore, zrank, zrevrank, zscore } from './zset.js';
import { zrange, zrangebyscore } from './zrange.js';

/** A typed command and its index in `TYPED_FAMILIES` (metrics/labels.ts). */
export interface TypedCommand {
  readonly run: Command;
  readonly family: number;
}

const rows: [string, Command, number][] = [
  ['EXISTS', exists, 0],
  ['TYPE', type, 0],
  ['TTL', ttl, 0],
  ['PTTL', pttl, 0],
  ['STRLEN', strlen, 0],
  ['GETRANGE', getrange, 0],
  ['HGET', hget, 1],
  ['HMGET', hmget, 1],
  ['HGETALL', hgetall, 1],
  ['HKEYS', hkeys, 1],
  ['HVALS', hvals, 1],
  ['HLEN', hlen, 1],
  ['HEXISTS', hexists, 1],
  ['HSTRLEN', hstrlen, 1],
  ['LRANGE', lrange, 2],
  ['LINDEX', lindex, 2],
  ['LLEN', llen, 2],
  ['SMEMBERS', smembers, 3],
  ['SISMEMBER', sismember, 3],
  ['SMISMEMBER', smismember, 3],
  ['SCARD', scard, 3],
  ['ZRANGE', zrange, 4],
  ['ZRANGEBYSCORE', zrangebyscore, 4],
  ['ZSCORE', zscore, 4],
  ['ZMSCORE', zmscore, 4],
  ['ZCARD', zcard, 4],
  ['ZRANK', zrank, 4],
  ['ZREVRANK', zrevrank, 4],
];

/** Every typed command by upper-case name. */
export const TYPED_COMMANDS: ReadonlyMap<string, TypedCommand> = new Map(rows.map(([name, run, family]) => [name, { run, family }]));
