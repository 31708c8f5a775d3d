/**
 * How many threads of each kind a proxy runs by default, and whether this
 * Node can run more than one acceptor.
 *
 * An acceptor does most of a request's work (HTTP or RESP parsing, the
 * answer's headers and system calls); a shard does the rest (the cache
 * lookup, packing the reply, the Redis round trip on a miss). Throughput is
 * highest when neither kind waits for the other, so the cores are split in
 * proportion to what each kind costs per request: `SHARD_SHARE` is the
 * shards' part of a request's CPU, measured per thread from
 * `/proc/<pid>/task/<tid>/stat` (see docs/architecture.md and the "CPU per
 * request, by thread" table of `npm run bench`).
 */

/**
 * The shards' share of a request's CPU time, all threads counted, on the
 * miss path (where the shard does the most: ioredis and the reply); on the
 * hit path it is smaller. Measured, see docs/architecture.md.
 */
export const SHARD_SHARE = 0.2;

/** Default thread counts for `cores` available cores: at least one of each, and no more threads than cores. */
export function defaultThreads(cores: number, reusePort: boolean): { acceptors: number; shards: number } {
  const shards = Math.max(1, Math.round(cores * SHARD_SHARE));
  const acceptors = reusePort ? Math.max(1, cores - shards) : 1;
  return { acceptors, shards };
}

/**
 * Platforms where the kernel spreads one port's connections over several
 * listening sockets (SO_REUSEPORT), as Node documents for `reusePort`.
 */
const REUSE_PORT_PLATFORMS: readonly string[] = ['linux', 'freebsd', 'sunos', 'aix'];

/**
 * Why several acceptors cannot listen on one port here, or `undefined` when
 * they can: `reusePort` came in Node 22.12 and needs kernel support.
 */
export function reusePortProblem(version: string, platform: string): string | undefined {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  if (major < 22 || (major === 22 && minor < 12)) return `needs Node 22.12 or later for reusePort; this is Node ${version}`;
  if (!REUSE_PORT_PLATFORMS.includes(platform)) return `needs SO_REUSEPORT, which Node does not offer on ${platform}`;
  return undefined;
}
