/**
 * Sending one typed command to Redis as the client sent it, for a key whose
 * value is too large to cache (`../forward.ts`): on the shard's data
 * connection, or through the cluster client, which routes it by its key
 * (ioredis finds the key of a known command whatever its case).
 *
 * The name goes out in upper case on purpose: ioredis applies its reply
 * transformers by the exact, lower-case name, and the one for `hgetall`
 * turns the reply into an object keyed by strings, which loses binary
 * fields; an upper-case name reaches no transformer, so the reply comes
 * as Redis sent it (the differential test's binary fields depend on it).
 * Fails as the other reads do: no offline queue, REDIS_TIMEOUT_MS.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Forward } from '../forward.js';

/** Forwards on `client`: `argv` is the command's name, its key, then its arguments. */
export function forwardOn(client: Redis | Cluster): Forward {
  return (argv) => client.callBuffer(argv[0]!.latin1Slice(0, argv[0]!.length).toUpperCase(), ...argv.slice(1));
}
