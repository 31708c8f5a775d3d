import t from 'tap';
import { Arena, GRANULE, HEADER } from '../src/cache/arena.js';
import { seededRandom } from './helpers/random.js';

/** Fills a block's payload with a pattern derived from `tag`, and checks it later. */
function fill(a: Arena, addr: number, length: number, tag: number): void {
  const page = a.bytes[Arena.page(addr)]!;
  const start = Arena.payload(addr);
  for (let i = 0; i < length; i++) page[start + i] = (tag + i * 31) & 0xff;
}
function intact(a: Arena, addr: number, length: number, tag: number): boolean {
  const page = a.bytes[Arena.page(addr)]!;
  const start = Arena.payload(addr);
  for (let i = 0; i < length; i++) if (page[start + i] !== ((tag + i * 31) & 0xff)) return false;
  return true;
}

t.test('a block holds its payload; the waste is the header and the rounding to 8 bytes', async (t) => {
  const a = new Arena({ pageBytes: 65536 });
  for (const n of [0, 1, 4, 5, 12, 13, 100, 107, 4096, 4110]) {
    const addr = a.alloc(n);
    t.ok(addr >= 0, `allocated ${n}`);
    const bytes = a.blockBytes(addr);
    t.ok(bytes >= n + HEADER && bytes - (n + HEADER) < GRANULE + (n + HEADER < 16 ? 16 : 0), `block of ${bytes} B for ${n} B`);
    t.equal(bytes, Arena.granules(n) * GRANULE);
  }
  t.equal(
    a.used,
    [0, 1, 4, 5, 12, 13, 100, 107, 4096, 4110].reduce((s, n) => s + Arena.granules(n) * GRANULE, 0),
    'used is the sum of the blocks, to the byte',
  );
  t.equal(a.reserved, 65536, 'one page');
});

t.test('random churn: no block overlaps another, used stays exact, freeing everything gives the pages back', async (t) => {
  const a = new Arena({ pageBytes: 65536 });
  const rnd = seededRandom(1);
  const live = new Map<number, { length: number; tag: number }>();
  let expected = 0;
  let tag = 0;
  for (let step = 0; step < 20000; step++) {
    if (live.size > 0 && (rnd() < 0.45 || live.size > 400)) {
      const keys = [...live.keys()];
      const addr = keys[Math.floor(rnd() * keys.length)]!;
      const { length, tag: was } = live.get(addr)!;
      if (!intact(a, addr, length, was)) return t.fail(`block at ${addr} was overwritten`);
      expected -= a.blockBytes(addr);
      a.free(addr);
      live.delete(addr);
    } else {
      // Mostly small, now and then one larger than a page.
      const length = rnd() < 0.002 ? 70000 + Math.floor(rnd() * 10000) : Math.floor(rnd() ** 3 * 3000);
      const addr = a.alloc(length);
      if (live.has(addr)) return t.fail(`address ${addr} handed out twice`);
      fill(a, addr, length, ++tag);
      live.set(addr, { length, tag });
      expected += a.blockBytes(addr);
    }
    if (a.used !== expected) return t.fail(`used ${a.used}, expected ${expected} at step ${step}`);
  }
  for (const [addr, { length, tag: was }] of live) {
    t.ok(intact(a, addr, length, was) || t.fail(`block ${addr} overwritten`));
    a.free(addr);
  }
  t.equal(a.used, 0);
  t.equal(a.reserved, 65536, 'every page but one was dropped, oversized ones included');
});

t.test('fragmentation under churn: a steady live set needs little more than its own size', async (t) => {
  const a = new Arena({ pageBytes: 1 << 20 });
  const rnd = seededRandom(7);
  const live: number[] = [];
  let liveBytes = 0;
  let worst = 0;
  // Values of 50 B to 8 KiB, replaced at random, about 16 MiB live: the mix of sizes churns through every class.
  for (let step = 0; step < 200000; step++) {
    if (liveBytes > 16 << 20) {
      const i = Math.floor(rnd() * live.length);
      liveBytes -= a.blockBytes(live[i]!);
      a.free(live[i]!);
      live[i] = live[live.length - 1]!;
      live.pop();
    }
    const addr = a.alloc(50 + Math.floor(rnd() ** 2 * 8192));
    live.push(addr);
    liveBytes += a.blockBytes(addr);
    if (step > 50000) worst = Math.max(worst, a.reserved / a.used);
  }
  t.ok(worst < 1.3, `pages held ÷ bytes in use stayed under 1.3 (worst ${worst.toFixed(3)})`);
  // Then the mix shifts to one size, as much live: the memory of the old
  // sizes is reused for the new one instead of staying in their classes.
  const reservedBefore = a.reserved;
  for (let step = 0; step < 300000; step++) {
    while (liveBytes > 16 << 20) {
      const i = Math.floor(rnd() * live.length);
      liveBytes -= a.blockBytes(live[i]!);
      a.free(live[i]!);
      live[i] = live[live.length - 1]!;
      live.pop();
    }
    const addr = a.alloc(300);
    live.push(addr);
    liveBytes += a.blockBytes(addr);
  }
  t.ok(
    a.reserved <= reservedBefore * 1.1,
    `after a shift to one size the pages held grew by ${((a.reserved / reservedBefore - 1) * 100).toFixed(1)}% (at most 10%)`,
  );
  t.ok(a.reserved / a.used < 1.3, `pages held ÷ bytes in use: ${(a.reserved / a.used).toFixed(3)}`);
});

t.test('a request larger than a page gets a page of its own, dropped when freed', async (t) => {
  const a = new Arena({ pageBytes: 4096 });
  const small = a.alloc(10);
  const big = a.alloc(100000);
  t.not(Arena.page(big), Arena.page(small));
  fill(a, big, 100000, 3);
  t.ok(intact(a, big, 100000, 3));
  t.equal(a.reserved, 4096 + Arena.granules(100000) * GRANULE + GRANULE);
  a.free(big);
  t.equal(a.reserved, 4096);
  t.equal(a.used, Arena.granules(10) * GRANULE);
  t.throws(() => new Arena({ pageBytes: 1000 }), RangeError);
  t.throws(() => new Arena({ pageBytes: 1 << 24 }), RangeError);
});

t.test('neighbours merge when freed, in either order', async (t) => {
  const a = new Arena({ pageBytes: 4096 });
  const blocks = [a.alloc(1000), a.alloc(1000), a.alloc(1000)];
  // 4096 B hold one free block of 4088 B: the three 1008 B blocks leave 1064 B, too little for 2000.
  t.equal(a.alloc(3000) >>> 20, 1, 'no room left in the first page');
  a.free(blocks[0]!);
  a.free(blocks[2]!);
  a.free(blocks[1]!);
  const again = a.alloc(3000);
  t.equal(Arena.page(again), 0, 'the three merged into one block that holds 3000 B');
  a.clear();
  t.equal(a.reserved, 0);
  t.equal(a.used, 0);
  t.ok(a.alloc(10) >= 0, 'usable after clear');
});
