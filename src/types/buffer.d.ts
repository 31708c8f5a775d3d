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
}
export {};
