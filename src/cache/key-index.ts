/**
 * The store's index from key hash to entry: open addressing with linear
 * probing over one Int32Array of entry numbers, kept at most half full and
 * doubled (rehashed) when it would pass that, so a probe touches one or two
 * slots on average. Deletion shifts the following run back instead of
 * leaving tombstones, so a table under churn never fills up with them and
 * never needs a rebuild.
 *
 * The index does not compare keys: the store walks `table` from
 * `hash & mask` itself (its hot path). Moving entries needs their hashes,
 * which the store recomputes from the key bytes (`hashOf`): entries do not
 * keep them, and moves happen on deletion and growth only.
 */

/** A slot with no entry (entry numbers start above the list sentinels). */
export const EMPTY = 0;

/** See the file comment. */
export class KeyIndex {
  /** Entry number per slot, or `EMPTY`. */
  table: Int32Array;
  /** `table.length - 1` (the length is a power of two). */
  mask: number;
  /** Entries indexed. */
  size = 0;

  constructor(minSlots = 16) {
    const slots = 2 ** Math.max(4, Math.ceil(Math.log2(minSlots)));
    this.table = new Int32Array(slots);
    this.mask = slots - 1;
  }

  /** Bytes the table holds. */
  get bytes(): number {
    return this.table.byteLength;
  }

  /** Adds `entry` with `hash` (not indexed yet), doubling the table first if it would pass half full. */
  insert(entry: number, hash: number, hashOf: (entry: number) => number): void {
    if ((this.size + 1) * 2 > this.table.length) this.#rehash(this.table.length * 2, hashOf);
    this.#place(entry, hash);
    this.size++;
  }

  /** Removes `entry` (with `hash`), which must be indexed, and shifts the run after it back. */
  remove(entry: number, hash: number, hashOf: (entry: number) => number): void {
    const table = this.table;
    const mask = this.mask;
    let hole = hash & mask;
    while (table[hole] !== entry) hole = (hole + 1) & mask;
    // Backward shift: an entry further down the run moves into the hole
    // unless its home slot lies cyclically after the hole (it would then be
    // placed before its home and never found).
    let j = hole;
    for (;;) {
      j = (j + 1) & mask;
      const e = table[j]!;
      if (e === EMPTY) break;
      const home = hashOf(e) & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        table[hole] = e;
        hole = j;
      }
    }
    table[hole] = EMPTY;
    this.size--;
  }

  /** Empties the index, keeping its size. */
  clear(): void {
    this.table.fill(EMPTY);
    this.size = 0;
  }

  #place(entry: number, hash: number): void {
    const table = this.table;
    let slot = hash & this.mask;
    while (table[slot] !== EMPTY) slot = (slot + 1) & this.mask;
    table[slot] = entry;
  }

  #rehash(slots: number, hashOf: (entry: number) => number): void {
    const old = this.table;
    this.table = new Int32Array(slots);
    this.mask = slots - 1;
    for (let i = 0; i < old.length; i++) if (old[i] !== EMPTY) this.#place(old[i]!, hashOf(old[i]!));
  }
}
