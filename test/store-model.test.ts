/**
 * Property test: random sequences of get, set, delete and time passing,
 * applied to the store and to a plain reference model (a Map in recency
 * order), must give the same answers, the same evictions and the same
 * bytes. Seeded: a failing seed is printed and replays.
 */
import t from 'tap';
import { Arena } from '../src/cache/arena.js';
import { ENTRY_BYTES, MISS, Store } from '../src/cache/store.js';
import { seededRandom } from './helpers/random.js';

/** The reference: an exact LRU with lazy TTL, grace and a byte budget, written the obvious way. */
class Model {
  readonly map = new Map<string, { value: string; at: number }>();
  evicted = 0;
  expired = 0;
  slots = 16;
  constructor(
    readonly capacity: number,
    readonly ttl: number,
    readonly grace: number,
    readonly maxBytes: number,
  ) {}
  weight(key: string, value: string): number {
    return Arena.granules(key.length + value.length) * 8 + ENTRY_BYTES;
  }
  get bytes(): number {
    let sum = this.slots * 4;
    for (const [k, { value }] of this.map) sum += this.weight(k, value);
    return sum;
  }
  get(key: string, now: number): string | undefined {
    const entry = this.map.get(key);
    if (entry === undefined) return undefined;
    if (now - entry.at >= this.ttl) {
      this.expired++;
      if (now - entry.at >= this.ttl + this.grace) this.map.delete(key);
      return undefined;
    }
    this.map.delete(key);
    this.map.set(key, entry);
    return entry.value;
  }
  set(key: string, value: string, now: number): void {
    this.map.delete(key);
    if (this.capacity === 0 || this.weight(key, value) + this.slots * 4 > this.maxBytes) return;
    while (this.map.size >= this.capacity) this.evictOne();
    if ((this.map.size + 1) * 2 > this.slots) this.slots *= 2;
    this.map.set(key, { value, at: now });
    while (this.bytes > this.maxBytes) this.evictOne();
  }
  evictOne(): void {
    this.map.delete(this.map.keys().next().value!);
    this.evicted++;
  }
  keys(): string[] {
    return [...this.map.keys()].reverse();
  }
}

function run(seed: number, capacity: number, maxBytes: number): string | undefined {
  const rnd = seededRandom(seed);
  const ttl = 50 + Math.floor(rnd() * 100);
  const grace = rnd() < 0.5 ? 0 : Math.floor(rnd() * 50);
  const store = new Store({ capacity, ttl, grace, maxBytes, pageBytes: 4096 });
  const model = new Model(capacity, ttl, grace, maxBytes);
  let now = 0;
  const keys = Math.max(2, Math.floor(capacity * 1.5));
  for (let step = 0; step < 3000; step++) {
    const key = `k${Math.floor(rnd() ** 2 * keys)}`;
    const op = rnd();
    if (op < 0.45) {
      const e = store.getKey(key, now);
      const got = e === MISS ? undefined : store.value(e).toString('latin1');
      const want = model.get(key, now);
      if (got !== want) return `step ${step}: get ${key} gave ${got}, model ${want}`;
    } else if (op < 0.85) {
      const value = 'v'.repeat(Math.floor(rnd() ** 3 * 600)) + step;
      store.set(key, Buffer.from(value, 'latin1'), now);
      model.set(key, value, now);
    } else if (op < 0.93) {
      const had = model.map.delete(key);
      if (store.delete(key) !== had) return `step ${step}: delete ${key} disagreed`;
    } else {
      now += Math.floor(rnd() * 40);
    }
    if (store.evicted !== model.evicted) return `step ${step}: evicted ${store.evicted}, model ${model.evicted}`;
    if (store.expired !== model.expired) return `step ${step}: expired ${store.expired}, model ${model.expired}`;
    if (store.bytes !== model.bytes) return `step ${step}: bytes ${store.bytes}, model ${model.bytes}`;
    if (step % 100 === 0 && store.keys().join() !== model.keys().join()) return `step ${step}: recency order differs`;
  }
  if (store.keys().join() !== model.keys().join()) return 'final recency order differs';
  return undefined;
}

t.test('the store behaves as the reference LRU: answers, evictions, expiry, bytes and order', async (t) => {
  const failures: string[] = [];
  for (let seed = 1; seed <= 60; seed++) {
    const capacity = [0, 1, 2, 5, 20, 100][seed % 6]!;
    const maxBytes = seed % 3 === 0 ? 1000 + ((seed * 997) % 8000) : Number.POSITIVE_INFINITY;
    const failure = run(seed, capacity, maxBytes);
    if (failure !== undefined) failures.push(`seed ${seed} (capacity ${capacity}, maxBytes ${maxBytes}): ${failure}`);
  }
  t.same(failures, [], '60 random sequences of 3,000 operations');
});
