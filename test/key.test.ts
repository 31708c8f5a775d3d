import t from 'tap';
import { decodeKey, KeyError } from '../src/routing/key.js';

const bytes = (s: string): number[] => [...Buffer.from(s, 'latin1')];

t.test('plain keys', async (t) => {
  t.equal(decodeKey('/hello', 100), 'hello');
  t.equal(decodeKey('/a/b/c', 100), 'a/b/c', 'slashes after the first belong to the key');
  t.equal(decodeKey('/a+b', 100), 'a+b', 'plus is not a space in a path');
});

t.test('query string and fragment are not part of the key', async (t) => {
  t.equal(decodeKey('/k?x=1', 100), 'k');
  t.equal(decodeKey('/k#frag', 100), 'k');
  t.equal(decodeKey('/k%3Fx?y', 100), 'k?x');
  t.equal(decodeKey('/k%23', 100), 'k#');
});

t.test('percent-decoding gives bytes', async (t) => {
  t.same(bytes(decodeKey('/%00%ff%FF%7f%20', 100) as string), [0, 255, 255, 127, 32]);
  t.same(bytes(decodeKey('/caf%C3%A9', 100) as string), [0x63, 0x61, 0x66, 0xc3, 0xa9], 'UTF-8 stays as its bytes');
  const all = Array.from({ length: 256 }, (_, i) => `%${i.toString(16).padStart(2, '0')}`).join('');
  t.same(
    bytes(decodeKey(`/${all}`, 256) as string),
    Array.from({ length: 256 }, (_, i) => i),
  );
});

t.test('refusals', async (t) => {
  t.equal(decodeKey('/', 100), KeyError.Empty);
  t.equal(decodeKey('/?x=1', 100), KeyError.Empty);
  t.equal(decodeKey('*', 100), KeyError.NotOriginForm);
  t.equal(decodeKey('http://h/k', 100), KeyError.NotOriginForm);
  for (const bad of ['/%', '/%4', '/%zz', '/%4g', '/a%', '/%%41', '/%4?x']) t.equal(decodeKey(bad, 100), KeyError.BadEscape, bad);
});

t.test('length is counted in decoded bytes', async (t) => {
  t.equal(decodeKey('/abcd', 4), 'abcd');
  t.equal(decodeKey('/abcde', 4), KeyError.TooLong);
  t.equal(decodeKey('/%61%62%63%64', 4), 'abcd', '12 chars of target, 4 bytes of key');
  t.equal(decodeKey('/%61%62%63%64%65', 4), KeyError.TooLong);
  const long = `/${'%41'.repeat(5000)}`;
  t.equal((decodeKey(long, 5000) as string).length, 5000, 'scratch space grows for long keys');
});
