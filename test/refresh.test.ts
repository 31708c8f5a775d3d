/**
 * Stale-while-revalidate and early refresh in the shard, in-process, with a
 * clock and a fetch the test controls: answers served stale while one
 * background fetch refreshes the entry, failed refreshes, coalescing with
 * misses, and XFetch's draw near expiry.
 */
import t from 'tap';
import { Outcome } from '../src/hop/vocabulary.js';
import { Stat } from '../src/metrics/shard-stats.js';
import { Shard, type Fetch } from '../src/shard/shard.js';
import { batch, decode, linked, type Reply } from './helpers/batches.js';
import { sleep } from './helpers/time.js';

interface Rig {
  shard: Shard;
  replies: Reply[];
  ages: number[];
  fetched: string[];
  clock: { now: number };
  /** What the next fetches answer (a value, or an Outcome); `hold` keeps them in the air until `release`. */
  answer: { value: string | Outcome; hold: boolean };
  release(): void;
  read(id: number, key: string): Promise<Reply>;
}

function rig(options: {
  cacheTtlMs: number;
  staleWhileRevalidateMs?: number;
  staleIfErrorMs?: number;
  beta?: number;
  fetchMs?: number;
}): Rig {
  const clock = { now: 0 };
  const answer: Rig['answer'] = { value: 'v1', hold: false };
  const fetched: string[] = [];
  const held: (() => void)[] = [];
  const fetch: Fetch = (key) => {
    fetched.push(key.toString('latin1'));
    const value = answer.value;
    const result = (): Buffer | Outcome => {
      clock.now += options.fetchMs ?? 0;
      return typeof value === 'number' ? value : Buffer.from(value);
    };
    if (answer.hold) return new Promise((resolve) => held.push(() => resolve(result())));
    return Promise.resolve().then(result);
  };
  const replies: Reply[] = [];
  const ages: number[] = [];
  const shard = linked(
    new Shard({
      capacity: 10,
      cacheTtlMs: options.cacheTtlMs,
      staleWhileRevalidateMs: options.staleWhileRevalidateMs ?? 0,
      staleIfErrorMs: options.staleIfErrorMs ?? 0,
      earlyRefreshBeta: options.beta ?? 0,
      fetch,
      now: () => clock.now,
    }),
    (b) => {
      replies.push(...decode(b));
      const view = new DataView(b);
      // The age is the low 31 bits of the third word of each entry; entries are read in order by decode too.
      for (let at = 4, i = 0; i < view.getInt32(0, true); i++) {
        const code = view.getInt32(at + 4, true);
        const meta = view.getUint32(at + 8, true);
        ages.push(meta & 0x7fffffff);
        at += 12 + Math.max(code, 0) + (meta & 0x80000000 ? 18 : 0);
        at = (at + 3) & ~3;
      }
    },
  );
  const read = async (id: number, key: string): Promise<Reply> => {
    shard.receive(batch([id, key]), 0);
    for (let i = 0; i < 100 && !replies.some(([r]) => r === id); i++) await new Promise((resolve) => setImmediate(resolve));
    return replies.find(([r]) => r === id)!;
  };
  return {
    shard,
    replies,
    ages,
    fetched,
    clock,
    answer,
    release: () => {
      for (const f of held.splice(0)) f();
    },
    read,
  };
}

/**
 * Lets what was released land and be sent: a timer, then two check phases,
 * since answers that land are sent from a setImmediate, which a loaded
 * machine can let a 5 ms timer overtake (seen once in a full run).
 */
const settle = async (): Promise<void> => {
  await sleep(5);
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
};

t.test('past the TTL, within the window: answered at once from the cache with its age, and refreshed by one fetch', async (t) => {
  const r = rig({ cacheTtlMs: 100, staleWhileRevalidateMs: 1000 });
  t.same(await r.read(1, 'k'), [1, 2, 'v1']);
  r.answer.value = 'v2';
  r.answer.hold = true;
  r.clock.now = 150;
  t.same(await r.read(2, 'k'), [2, 2, 'v1'], 'stale, at once (the refresh is held)');
  t.equal(r.ages.at(-1), 150, 'with its true age');
  t.same(await r.read(3, 'k'), [3, 2, 'v1'], 'again stale');
  t.same(r.fetched, ['k', 'k'], 'one refresh for both');
  r.release();
  await settle();
  r.clock.now = 160;
  t.same(await r.read(4, 'k'), [4, 2, 'v2'], 'the refreshed value');
  t.equal(r.ages.at(-1), 10, 'fetched 10 ms ago');
  const s = r.shard.stats;
  t.same(
    [s[Stat.RefreshesStarted], s[Stat.RefreshesFailed], s[Stat.StaleWhileRevalidateServed], s[Stat.Expired]],
    [1, 0, 2, 0],
    'counted: one refresh, two stale answers, nothing expired',
  );
});

t.test('a failed refresh keeps the old entry until the window ends; STALE_IF_ERROR_MS still applies after it', async (t) => {
  const r = rig({ cacheTtlMs: 100, staleWhileRevalidateMs: 500, staleIfErrorMs: 1000 });
  await r.read(1, 'k');
  r.answer.value = Outcome.Unavailable;
  r.clock.now = 200;
  t.same(await r.read(2, 'k'), [2, 2, 'v1']);
  await settle();
  r.clock.now = 590;
  t.same(await r.read(3, 'k'), [3, 2, 'v1'], 'still served within the window, and refreshed again');
  await settle();
  t.equal(r.shard.stats[Stat.RefreshesFailed], 2);
  r.clock.now = 700;
  t.same(await r.read(4, 'k'), [4, 2, 'v1'], 'past the window: a miss, Redis fails, stale-if-error answers');
  t.equal(r.shard.staleIfErrorServed, 1);
  r.clock.now = 1700;
  t.same(await r.read(5, 'k'), [5, Outcome.Unavailable], 'past both: the failure shows');
});

t.test('a refresh that finds the key gone removes the entry', async (t) => {
  const r = rig({ cacheTtlMs: 100, staleWhileRevalidateMs: 500 });
  await r.read(1, 'k');
  r.answer.value = Outcome.NotFound;
  r.clock.now = 150;
  t.same(await r.read(2, 'k'), [2, 2, 'v1'], 'stale, while the refresh goes');
  await settle();
  t.equal(r.shard.cache.size, 0, 'gone');
  t.same(await r.read(3, 'k'), [3, Outcome.NotFound]);
});

t.test('a miss of the key while its refresh is in the air joins it', async (t) => {
  const r = rig({ cacheTtlMs: 100, staleWhileRevalidateMs: 500 });
  await r.read(1, 'k');
  r.answer.value = 'v2';
  r.answer.hold = true;
  r.clock.now = 150;
  await r.read(2, 'k');
  // The key changed in Redis: the entry goes, the refresh in the air is poisoned.
  r.shard.invalidate('k');
  r.shard.receive(batch([3, 'k']), 0);
  t.equal(r.shard.coalesced[0], 1, 'the miss joined the refresh');
  r.release();
  await settle();
  t.same(
    r.replies.find(([id]) => id === 3),
    [3, 2, 'v2'],
    'and was answered by it',
  );
  t.same(r.fetched, ['k', 'k']);
  t.equal(r.shard.cache.size, 0, 'not cached: the invalidation came after the fetch was sent');
});

t.test('early refresh (XFetch): near expiry a hit may refresh, far from it never', async (t) => {
  // Fetches take 5 ms on this clock: delta. With β = 1 a hit 10 ms before expiry refreshes with probability e^-2.
  const r = rig({ cacheTtlMs: 1000, beta: 1, fetchMs: 5 });
  await r.read(1, 'k');
  r.answer.value = 'v2';
  r.clock.now = 400;
  for (let i = 0; i < 200; i++) await r.read(100 + i, 'k');
  t.same(r.fetched, ['k'], '600 ms before expiry (beyond 10 × delta × β): no draw, no refresh');
  r.clock.now = 995;
  for (let i = 0; i < 200; i++) r.shard.receive(batch([1000 + i, 'k']), 0);
  t.same(r.fetched, ['k', 'k'], '10 ms before: one refresh among 200 hits (chance of none: 0.865^200)');
  t.equal(r.shard.refresh.started, 1);
  await settle();
  r.clock.now = 1010;
  t.same(await r.read(2000, 'k'), [2000, 2, 'v2'], 'after the old expiry: the refreshed value, no miss');
  t.equal(r.shard.misses[0], 1, 'the only miss was the first read');
});

t.test('without SWR and with β = 0 an expired entry is a plain miss', async (t) => {
  const r = rig({ cacheTtlMs: 100 });
  await r.read(1, 'k');
  r.clock.now = 150;
  r.answer.value = 'v2';
  t.same(await r.read(2, 'k'), [2, 2, 'v2']);
  t.equal(r.shard.refresh.started, 0);
  t.equal(r.shard.misses[0], 2);
});
