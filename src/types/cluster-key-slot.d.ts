/**
 * cluster-key-slot ships no types. It is the hash-slot function ioredis
 * routes commands with (CRC16 of the key, or of its `{hash tag}`, modulo
 * 16384); the cluster tests use the same function to find which node holds
 * a key, so they can never disagree with where ioredis sends it.
 */
declare module 'cluster-key-slot' {
  /** The hash slot (0–16383) of `key`; a string is taken as UTF-8, bytes as they are. */
  function calculateSlot(key: string | Uint8Array): number;
  export default calculateSlot;
}
