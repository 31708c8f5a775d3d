/**
 * Reply-batch buffers that go back and forth instead of being allocated
 * anew: an acceptor hands a large reply batch back to its shard once every
 * answer written from it has left (`src/acceptor/batch-return.ts`, which
 * marks it `markReturned`), the shard sees `isReturned` and gives it to its
 * writer's `BufferPool`, and the writer (`src/hop/wire.ts`) takes from the
 * pool before allocating.
 */

/**
 * Reply batches at least this large are handed back to their shard, and the
 * shard's writer fills them again. Below it a fresh buffer is cheap; from
 * here on (glibc's threshold for serving an allocation with its own mapping)
 * each new buffer costs page faults, its freeing a munmap, and both the
 * garbage collector's external-memory accounting, for every batch.
 */
export const RETURN_MIN_BYTES = 128 * 1024;
/** The count word of a batch handed back empty: no entries, fill it again. */
const RETURNED = -1;
/**
 * What a pool keeps: as many buffers as batches are out at once while
 * sockets drain (64 connections reading 256 KiB values keep about a dozen
 * 2 MiB batches out; a 16 MiB bound measured 1.6× the CPU per request of
 * this one), within a byte bound. Each small batch lets one pooled buffer
 * go (`shrink`), so the memory is given back once large values stop flowing.
 */
const POOL = 16;
const POOL_BYTES = 32 * 1024 * 1024;

/** Marks `batch` as handed back: its entries are spent and its memory is the shard's to fill again. */
export function markReturned(batch: ArrayBuffer): void {
  new Int32Array(batch, 0, 1)[0] = RETURNED;
}

/** Whether `batch` is a reply batch handed back (`markReturned`) rather than a request batch. */
export function isReturned(batch: ArrayBuffer): boolean {
  return batch.byteLength >= 4 && new Int32Array(batch, 0, 1)[0] === RETURNED;
}

/** Buffers handed back, kept within `POOL` buffers and `POOL_BYTES`, the largest taken first. */
export class BufferPool {
  readonly #buffers: ArrayBuffer[] = [];
  #bytes = 0;

  /** Buffers held now. */
  get size(): number {
    return this.#buffers.length;
  }

  /** Keeps `buffer` for reuse; with the pool full, it replaces the smallest one if it is larger. */
  put(buffer: ArrayBuffer): void {
    const pool = this.#buffers;
    if (pool.length < POOL && this.#bytes + buffer.byteLength <= POOL_BYTES) {
      pool.push(buffer);
      this.#bytes += buffer.byteLength;
      return;
    }
    let smallest = -1;
    for (let i = 0; i < pool.length; i++) if (smallest < 0 || pool[i]!.byteLength < pool[smallest]!.byteLength) smallest = i;
    if (
      smallest < 0 ||
      buffer.byteLength <= pool[smallest]!.byteLength ||
      this.#bytes - pool[smallest]!.byteLength + buffer.byteLength > POOL_BYTES
    )
      return;
    this.#bytes += buffer.byteLength - pool[smallest]!.byteLength;
    pool[smallest] = buffer;
  }

  /** Takes out the largest buffer that holds `bytes`, or undefined when none does. */
  take(bytes: number): ArrayBuffer | undefined {
    const pool = this.#buffers;
    let best = -1;
    for (let i = 0; i < pool.length; i++)
      if (pool[i]!.byteLength >= bytes && (best < 0 || pool[best]!.byteLength < pool[i]!.byteLength)) best = i;
    if (best < 0) return undefined;
    const taken = pool.splice(best, 1)[0]!;
    this.#bytes -= taken.byteLength;
    return taken;
  }

  /** Lets one buffer go (the last put): called for each small batch, so the memory is given back when large values stop. */
  shrink(): void {
    const dropped = this.#buffers.pop();
    if (dropped !== undefined) this.#bytes -= dropped.byteLength;
  }
}
