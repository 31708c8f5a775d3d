/**
 * Key → shard routing.
 *
 * The shard count is fixed for the life of a process and every shard starts
 * empty, so plain modulo is enough: consistent hashing only pays when shards
 * come and go while their contents must stay put.
 */

/**
 * 32-bit hash of a key's bytes. Keys are binary strings (one char per byte,
 * as `latin1` decoding gives). FNV-1a mixes every byte cheaply; its low bits
 * are weak for short keys, so the murmur3 finalizer spreads them before the
 * modulo. Stable across runs and platforms: the same key always lands on the
 * same shard.
 */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The shard, in `[0, shards)`, that owns `key`. */
export function shardOf(key: string, shards: number): number {
  return shards === 1 ? 0 : hashKey(key) % shards;
}
