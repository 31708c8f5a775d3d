import t from 'tap';
import { ETAG_BYTES, etagOf } from '../src/cache/etag.js';

t.test('a quoted 16-hex-digit tag, the same for the same bytes, different for different ones', async (t) => {
  const tag = etagOf(Buffer.from('hello')).toString('latin1');
  t.match(tag, /^"[0-9a-f]{16}"$/);
  t.equal(tag.length, ETAG_BYTES);
  t.equal(etagOf(Buffer.from('hello')).toString('latin1'), tag, 'deterministic');
  const seen = new Set<string>();
  for (let i = 0; i < 10000; i++) seen.add(etagOf(Buffer.from(`value-${i}`)).toString('latin1'));
  seen.add(etagOf(Buffer.alloc(0)).toString('latin1'));
  seen.add(etagOf(Buffer.alloc(1)).toString('latin1'));
  seen.add(etagOf(Buffer.alloc(2)).toString('latin1'));
  t.equal(seen.size, 10003, 'no collision among 10,003 values, zero-filled ones of different lengths included');
});
