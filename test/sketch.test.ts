import t from 'tap';
import { hashString } from '../src/cache/key-hash.js';
import { FrequencySketch } from '../src/cache/sketch.js';

t.test('counts: the first occurrence goes to the doorkeeper, later ones to the counters, capped at 15 + 1', async (t) => {
  const s = new FrequencySketch(1000);
  const h = hashString('hot');
  t.equal(s.frequency(h), 0, 'never seen');
  s.increment(h);
  t.equal(s.frequency(h), 1, 'once: the doorkeeper holds it, no counter moved');
  for (let i = 2; i <= 10; i++) s.increment(h);
  t.equal(s.frequency(h), 10, 'ten');
  for (let i = 0; i < 50; i++) s.increment(h);
  t.equal(s.frequency(h), 16, '4-bit counters stop at 15, plus the doorkeeper');
  t.equal(s.bytes, (4 * 1024) / 2 + 1024, '4 rows of 1,024 four-bit counters, 8,192 doorkeeper bits');
});

t.test('halving: after 10 × capacity additions every count halves and the doorkeeper empties', async (t) => {
  const s = new FrequencySketch(100);
  const hot = hashString('hot');
  for (let i = 0; i < 13; i++) s.increment(hot);
  t.equal(s.frequency(hot), 13);
  // Other keys up to one addition short of the sample size (they may collide with hot's counters: read it just before).
  let i = 0;
  while (s.additions < s.sampleSize - 1) s.increment(hashString(`cold${i++}`));
  const before = s.frequency(hot);
  t.ok(before >= 12, `at least its 12 counted occurrences before (${before})`);
  s.increment(hashString(`cold${i}`));
  t.equal(s.resets, 1);
  t.equal(s.additions, Math.floor(s.sampleSize / 2), 'the addition count halves too');
  // `before` holds the doorkeeper's 1 unless the doorkeeper emptied itself on the way.
  const after = s.frequency(hot);
  t.ok(after === before >> 1 || after === (before - 1) >> 1, `the counters halved and the doorkeeper bit is gone (${before} → ${after})`);
  s.clear();
  t.equal(s.frequency(hot), 0);
});

t.test('collisions stay within the count-min bound', async (t) => {
  const capacity = 4096;
  const s = new FrequencySketch(capacity);
  // 4,096 distinct keys seen three times each: N = 12,288 additions, no halving (sample 40,960).
  const keys = Array.from({ length: capacity }, (_, k) => hashString(`key:${k}`));
  for (let round = 0; round < 3; round++) for (const h of keys) s.increment(h);
  t.equal(s.resets, 0);
  const bound = Math.ceil((Math.E * s.additions) / s.width);
  let under = 0;
  let over = 0;
  for (const h of keys) {
    const f = s.frequency(h);
    if (f < 3) under++;
    if (f - 3 > bound) over++;
  }
  t.equal(under, 0, 'never below the true count');
  t.ok(
    over / keys.length <= 0.02,
    `above it by more than e·N/width = ${bound} for ${over} of ${keys.length} keys (at most 2%, the bound is e^-4 ≈ 1.8%)`,
  );
  // Keys never seen read as rare.
  let phantom = 0;
  for (let k = 0; k < 4096; k++) if (s.frequency(hashString(`never:${k}`)) > bound) phantom++;
  t.ok(phantom / 4096 <= 0.02, `${phantom} of 4,096 unseen keys estimated above ${bound}`);
});

t.test('the doorkeeper empties itself when half full: a long scan cannot make every key look seen', async (t) => {
  const s = new FrequencySketch(1024);
  let seen = 0;
  // 100,000 distinct keys, each once (the sketch halves every 10,240 additions too).
  for (let k = 0; k < 100000; k++) {
    const h = hashString(`scan:${k}`);
    if (s.frequency(h) > 0) seen++;
    s.increment(h);
  }
  t.ok(seen / 100000 < 0.25, `${seen} of 100,000 new keys looked seen before (under 25%)`);
});
