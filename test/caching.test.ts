import t from 'tap';
import { AgeStrings, ifNoneMatch, matchesEtag } from '../src/acceptor/http/caching.js';

t.test('Age and max-age in whole seconds; max-age 0 once the TTL has passed', async (t) => {
  const a = new AgeStrings(30000, 5000);
  t.equal(a.age(0), '0');
  t.equal(a.age(1999), '1');
  t.equal(a.maxAge(0), 'max-age=30');
  t.equal(a.maxAge(1), 'max-age=29', 'seconds left, rounded down');
  t.equal(a.maxAge(30000), 'max-age=0');
  t.equal(a.maxAge(34000), 'max-age=0', 'a stale answer');
  t.equal(a.age(34000), '34');
  t.equal(a.age(10 ** 9), '1000000', 'beyond the table: converted on the fly');
  const long = new AgeStrings(10 ** 9, 0);
  t.equal(long.maxAge(0), 'max-age=1000000');
});

t.test('If-None-Match: found case-insensitively, several fields joined', async (t) => {
  t.equal(ifNoneMatch(['Host', 'x', 'If-None-Match', '"a"']), '"a"');
  t.equal(ifNoneMatch(['if-none-match', '"a"', 'IF-NONE-MATCH', '"b"']), '"a","b"');
  t.equal(ifNoneMatch(['Host', 'x', 'If-Match-None', '"a"']), undefined, 'same length, other name');
  t.equal(ifNoneMatch([]), undefined);
});

t.test('matching: exact, in a list, weak, or *', async (t) => {
  const tag = '"0123456789abcdef"';
  t.equal(matchesEtag(undefined, tag), false);
  t.equal(matchesEtag(tag, tag), true);
  t.equal(matchesEtag(`"x", ${tag}`, tag), true);
  t.equal(matchesEtag(`W/${tag}`, tag), true);
  t.equal(matchesEtag('*', tag), true);
  t.equal(matchesEtag('"0123456789abcdee"', tag), false);
  t.equal(matchesEtag('W/"x", "y"', tag), false);
});

t.test("a key's TTL in Redis bounds max-age and stale-while-revalidate, rounded down", async (t) => {
  const a = new AgeStrings(30000, 0, 10000);
  t.equal(a.maxAge(0, 1999), 'max-age=1', 'the key life, shorter than the TTL left');
  t.equal(a.maxAge(0, 999), 'max-age=0');
  t.equal(a.maxAge(0, 45000), 'max-age=30', 'a longer key life: the TTL left');
  t.equal(a.maxAge(0, -1), 'max-age=30', 'no TTL: as before');
  t.equal(a.maxAge(31000, 4500), 'max-age=0, stale-while-revalidate=4', 'the window left (9 s) cut to the key life');
  t.equal(a.maxAge(31000, 500), 'max-age=0', 'under a second of life: no window');
  t.equal(a.maxAge(31000, 60000), 'max-age=0, stale-while-revalidate=9', 'a longer key life: the window left');
});
