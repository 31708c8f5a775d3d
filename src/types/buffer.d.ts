/**
 * Node's Buffer has had these encoding-specific methods for many releases
 * (undici and ws use them); @types/node does not declare them. They skip the
 * encoding-name dispatch of `toString` / `write`, which shows on the hot path.
 */
declare global {
  interface Buffer {
    latin1Slice(start: number, end: number): string;
    latin1Write(value: string, offset: number): number;
  }
  /**
   * ES2024 (V8 11.4, Node 21 and later; engines asks for 22.12): moves the
   * bytes into a new buffer of `newLength`, detaching this one, by a realloc
   * where the allocator can, so trimming a batch costs no copy.
   */
  interface ArrayBuffer {
    transfer(newLength?: number): ArrayBuffer;
  }
}
export {};
