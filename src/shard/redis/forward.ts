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

/**
 * Forwards on `client`: `argv` is the command's name, its key, then its
 * arguments. `cork` is called before each command: it corks the sockets for
 * the rest of the event-loop turn, so that the commands of one request batch
 * leave in one write rather than one system call each.
 */
export function forwardOn(client: Redis | Cluster, cork: () => void): Forward {
  return (argv) => {
    cork();
    return client.callBuffer(argv[0]!.latin1Slice(0, argv[0]!.length).toUpperCase(), ...argv.slice(1));
  };
}

/**
 * A `cork` for one server's socket (a cluster has its own, `cluster.ts`):
 * the first call of an event-loop turn corks it and `setImmediate` uncorks
 * it once the turn is over. Writes corked elsewhere in the turn (the batch
 * reads, `expiry-read.ts`) nest, and leave with these.
 */
export function turnCork(redis: Redis): () => void {
  let corked: Redis['stream'] | undefined;
  const uncork = (): void => {
    const stream = corked;
    corked = undefined;
    stream?.uncork();
  };
  return () => {
    if (corked !== undefined || redis.status !== 'ready') return;
    corked = redis.stream;
    corked.cork();
    setImmediate(uncork);
  };
}
