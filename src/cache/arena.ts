/**
 * A memory allocator over a few large ArrayBuffers ("pages"), for the bytes
 * of cached entries: a two-level segregated fit (TLSF, Masmano et al., 2004).
 * Free blocks sit on one of `FL_COUNT × SL_COUNT` lists by size class, two
 * bitmaps say which lists are non-empty, and a freed block merges with its
 * free neighbours at once. Allocation and freeing are O(1), nothing is a JS
 * object per block, and, unlike slabs with fixed size classes, memory moves
 * freely between sizes, so a change in the mix of value sizes cannot strand
 * pages in a class nobody uses any more.
 *
 * Addresses and sizes are in 8-byte granules, so a 32-bit address reaches
 * 32 GiB: the high bits name the page, the low `PAGE_BITS` the granule in it.
 * A block is a 4-byte header (size in granules, a FREE bit, a PREV_FREE bit)
 * then its payload; a free block also holds its list links after the header
 * and its size in its last word (the footer), which the next block reads to
 * merge backwards. The waste per allocation is the header and the rounding
 * to 8 bytes: at most 11 bytes (a one-granule rest of a split is left out
 * of the lists until a neighbour's free merges it back). A request larger than a page gets a page of
 * its own, dropped when it is freed; a normal page that becomes entirely free
 * is dropped too (unless it is the last), so memory returns to the system.
 */

/** Bytes per granule: the unit of addresses and block sizes. */
export const GRANULE = 8;
export const HEADER = 4;
const PAGE_BITS = 20;
const OFFSET_MASK = (1 << PAGE_BITS) - 1;
/** Largest page: 2^20 granules (8 MiB), so a page's offsets fit in PAGE_BITS. */
export const MAX_PAGE_BYTES = GRANULE << PAGE_BITS;
const MAX_PAGES = 2 ** (32 - PAGE_BITS);
const SL_BITS = 4;
const SL_COUNT = 1 << SL_BITS;
/** Sizes below this many granules each have a list of their own (first level 0). */
const SMALL = SL_COUNT;
const FL_COUNT = 30 - SL_BITS + 1;
const FREE = 1;
const PREV_FREE = 2;
const MIN_BLOCK = 2;
const NONE = -1;

export interface ArenaOptions {
  /** Bytes per page, a power of two from 4 KiB to `MAX_PAGE_BYTES` (the default); an untouched page costs address space only. */
  pageBytes?: number;
}

export class Arena {
  /** Bytes of the blocks handed out (headers and rounding included). */
  used = 0;
  /** Bytes of the pages held. */
  reserved = 0;
  /** Each page's bytes, by page number (`addr >>> PAGE_BITS`); `undefined` for a dropped page. */
  readonly bytes: (Buffer | undefined)[] = [];
  /** The same pages as 32-bit words (headers, links, footers). */
  readonly #words: (Int32Array | undefined)[] = [];
  readonly #pageGranules: number;
  /** Whether each page holds one oversized block (dropped when it is freed). */
  readonly #solo: boolean[] = [];
  readonly #freePages: number[] = [];
  #normalPages = 0;
  #flMap = 0;
  readonly #slMap = new Int32Array(FL_COUNT);
  readonly #heads = new Int32Array(FL_COUNT * SL_COUNT).fill(NONE);

  constructor(options: ArenaOptions = {}) {
    const pageBytes = options.pageBytes ?? MAX_PAGE_BYTES;
    if (!(pageBytes >= 4096 && pageBytes <= MAX_PAGE_BYTES && (pageBytes & (pageBytes - 1)) === 0)) {
      throw new RangeError(`pageBytes must be a power of two from 4096 to ${MAX_PAGE_BYTES}, got ${pageBytes}`);
    }
    this.#pageGranules = pageBytes / GRANULE;
  }

  /** Granules a block needs to hold `payload` bytes. */
  static granules(payload: number): number {
    return Math.max(MIN_BLOCK, Math.ceil((payload + HEADER) / GRANULE));
  }

  /** Bytes of the block at `addr` (header and rounding included). */
  blockBytes(addr: number): number {
    return (this.#word(addr, 0) >>> 2) * GRANULE;
  }

  /** Byte offset of the payload of the block at `addr` within its page, `bytes[addr >>> 20]`. */
  static payload(addr: number): number {
    return (addr & OFFSET_MASK) * GRANULE + HEADER;
  }

  /** The page number of `addr`: an index into `bytes`. */
  static page(addr: number): number {
    return addr >>> PAGE_BITS;
  }

  /** A block with room for `payload` bytes; its address, or -1 when no page can be added (all page numbers used, or no memory). */
  alloc(payload: number): number {
    const size = Arena.granules(payload);
    if (size > this.#pageGranules - 1) return this.#allocSolo(size);
    let block = this.#findFree(size);
    if (block === NONE) {
      if (!this.#addPage()) return NONE;
      block = this.#findFree(size);
    }
    this.#unlist(block);
    const have = this.#size(block);
    if (have > size) {
      // The rest goes back as a free block (a one-granule rest is too small for a list, but merges with its
      // neighbours when they are freed); its next neighbour already knows its left side is free.
      const rest = block + size;
      this.#setWord(rest, 0, ((have - size) << 2) | FREE);
      this.#setFooter(rest, have - size);
      this.#list(rest);
      this.#setWord(block, 0, size << 2);
    } else {
      this.#setWord(block, 0, have << 2);
      this.#markNext(block, have, false);
    }
    // Every block is exactly `granules(payload)`, and never has a free left neighbour (those merge when freed).
    this.used += this.#size(block) * GRANULE;
    return block >>> 0;
  }

  free(addr: number): void {
    const page = addr >>> PAGE_BITS;
    let size = this.#size(addr);
    this.used -= size * GRANULE;
    if (this.#solo[page]) {
      this.#dropPage(page);
      return;
    }
    let block = addr;
    if (this.#word(block, 0) & PREV_FREE) {
      const prevSize = this.#word(block, -1);
      block -= prevSize;
      this.#unlist(block);
      size += prevSize;
    }
    const next = block + size;
    const nextHeader = this.#word(next, 0);
    if (nextHeader & FREE) {
      this.#unlist(next);
      size += nextHeader >>> 2;
    }
    if (size === this.#pageGranules - 1 && this.#normalPages > 1) {
      this.#dropPage(page);
      return;
    }
    this.#setWord(block, 0, (size << 2) | FREE);
    this.#setFooter(block, size);
    this.#markNext(block, size, true);
    this.#list(block);
  }

  /** Drops every page: all addresses handed out become invalid. */
  clear(): void {
    for (let p = 0; p < this.bytes.length; p++) if (this.bytes[p] !== undefined) this.#dropPage(p);
    this.#heads.fill(NONE);
    this.#slMap.fill(0);
    this.#flMap = 0;
    this.used = 0;
  }

  #allocSolo(size: number): number {
    const page = this.#newPageNumber();
    if (page === NONE) return NONE;
    // One granule more than the block: the end marker its free() never needs, but a uniform layout.
    if (!this.#setPage(page, size + 1, true)) return NONE;
    this.#setWord(page << PAGE_BITS, 0, size << 2);
    this.used += size * GRANULE;
    return (page << PAGE_BITS) >>> 0;
  }

  #addPage(): boolean {
    const page = this.#newPageNumber();
    if (page === NONE || !this.#setPage(page, this.#pageGranules, false)) return false;
    this.#normalPages++;
    const first = page << PAGE_BITS;
    const size = this.#pageGranules - 1;
    this.#setWord(first, 0, (size << 2) | FREE);
    this.#setFooter(first, size);
    // The last granule is an end marker that looks allocated, so nothing merges past the page.
    this.#setWord(first + size, 0, PREV_FREE);
    this.#list(first);
    return true;
  }

  #newPageNumber(): number {
    if (this.#freePages.length > 0) return this.#freePages.pop()!;
    return this.bytes.length < MAX_PAGES ? this.bytes.length : NONE;
  }

  #setPage(page: number, granules: number, solo: boolean): boolean {
    let buffer: ArrayBuffer;
    try {
      buffer = new ArrayBuffer(granules * GRANULE);
    } catch {
      this.#freePages.push(page);
      return false;
    }
    this.bytes[page] = Buffer.from(buffer);
    this.#words[page] = new Int32Array(buffer);
    this.#solo[page] = solo;
    this.reserved += buffer.byteLength;
    return true;
  }

  /** Forgets a page; none of its blocks may be on a free list. */
  #dropPage(page: number): void {
    if (!this.#solo[page]) this.#normalPages--;
    this.reserved -= this.bytes[page]!.byteLength;
    this.bytes[page] = undefined;
    this.#words[page] = undefined;
    this.#freePages.push(page);
  }

  /** The first free block of at least `size` granules, from the first list whose every block is big enough. */
  #findFree(size: number): number {
    // Round the request up to the next class boundary, so any block of the class found fits (good fit, O(1)).
    const rounded = size < SMALL ? size : size + (1 << (log2(size) - SL_BITS)) - 1;
    let fl = firstLevel(rounded);
    if (fl >= FL_COUNT) return NONE;
    let slMap = this.#slMap[fl]! & (~0 << secondLevel(rounded, fl));
    if (slMap === 0) {
      const flMap = fl + 1 < 32 ? this.#flMap & (~0 << (fl + 1)) : 0;
      if (flMap === 0) return NONE;
      fl = ctz(flMap);
      slMap = this.#slMap[fl]!;
    }
    return this.#heads[fl * SL_COUNT + ctz(slMap)]!;
  }

  #list(block: number): void {
    const size = this.#size(block);
    if (size < MIN_BLOCK) return;
    const fl = firstLevel(size);
    const sl = secondLevel(size, fl);
    const head = this.#heads[fl * SL_COUNT + sl]!;
    this.#setWord(block, 1, head);
    this.#setWord(block, 2, NONE);
    if (head !== NONE) this.#setWord(head, 2, block);
    this.#heads[fl * SL_COUNT + sl] = block;
    this.#flMap |= 1 << fl;
    this.#slMap[fl]! |= 1 << sl;
  }

  #unlist(block: number): void {
    const size = this.#size(block);
    if (size < MIN_BLOCK) return;
    const fl = firstLevel(size);
    const sl = secondLevel(size, fl);
    const next = this.#word(block, 1);
    const prev = this.#word(block, 2);
    if (next !== NONE) this.#setWord(next, 2, prev);
    if (prev !== NONE) this.#setWord(prev, 1, next);
    else {
      this.#heads[fl * SL_COUNT + sl] = next;
      if (next === NONE) {
        this.#slMap[fl]! &= ~(1 << sl);
        if (this.#slMap[fl] === 0) this.#flMap &= ~(1 << fl);
      }
    }
  }

  /** Tells the block after `block` (of `size` granules) whether its left neighbour is free. */
  #markNext(block: number, size: number, free: boolean): void {
    const next = block + size;
    const header = this.#word(next, 0);
    this.#setWord(next, 0, free ? header | PREV_FREE : header & ~PREV_FREE);
  }

  #size(block: number): number {
    return this.#word(block, 0) >>> 2;
  }

  #setFooter(block: number, size: number): void {
    this.#setWord(block + size, -1, size);
  }

  /** Word `i` of the granule at `addr` (two words per granule; -1 is the word before it). */
  #word(addr: number, i: number): number {
    return this.#words[addr >>> PAGE_BITS]![(addr & OFFSET_MASK) * 2 + i]!;
  }

  #setWord(addr: number, i: number, value: number): void {
    this.#words[addr >>> PAGE_BITS]![(addr & OFFSET_MASK) * 2 + i] = value;
  }
}

function log2(n: number): number {
  return 31 - Math.clz32(n);
}

function ctz(n: number): number {
  return 31 - Math.clz32(n & -n);
}

function firstLevel(size: number): number {
  return size < SMALL ? 0 : log2(size) - SL_BITS + 1;
}

function secondLevel(size: number, fl: number): number {
  return fl === 0 ? size : (size >>> (fl - 1)) ^ SL_COUNT;
}
