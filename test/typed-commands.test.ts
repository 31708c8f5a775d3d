/**
 * The typed commands at unit level, in-process: the compact encoding, each
 * command family against a hand-made entry in RESP2 and RESP3 (the RESP3
 * bytes as redis-server 7.0 writes them), the JSON views and the HTTP query
 * parsing. The differential test checks the same code against a real Redis
 * through the built proxy; this one pins the encodings.
 */
import t from 'tap';
import { encodeTyped, Kind, KIND_NAMES, withJson } from '../src/cache/typed-value.js';
import { Found } from '../src/shard/commands/found.js';
import { JsonWriter } from '../src/shard/commands/json-writer.js';
import { fieldItem, rangeJson, valueJson } from '../src/shard/commands/http-views.js';
import { ReplyWriter } from '../src/shard/commands/reply-writer.js';
import { TYPED_COMMANDS } from '../src/shard/commands/table.js';
import { contentTypeOf, parseContentTypes, viewOf } from '../src/acceptor/http/typed-query.js';
import { contentTypes } from '../src/setting-parsers.js';
import { HTTP_VIEWS } from '../src/hop/vocabulary.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const hash = encodeTyped(Kind.Hash, [b('f1'), b('v1'), b('f2'), b('')]);
const list = encodeTyped(Kind.List, ['a', 'b', 'c'].map(b));
const set = encodeTyped(Kind.Set, ['x', 'y'].map(b));
const zset = encodeTyped(Kind.Zset, [b('a'), b('0.10000000000000001'), b('b'), b('2'), b('c'), b('inf')]);

/** Runs `args` (name, then the arguments after the key) against `value` in RESP2 or RESP3; the reply as text. */
function run(value: Buffer | string | undefined, resp3: boolean, ...args: string[]): string {
  const found = new Found();
  if (value === undefined) found.absent();
  else if (typeof value === 'string') found.string(b(value), 0, value.length, -1);
  else found.typed(value, 0, 1500);
  const out = new ReplyWriter().reset(resp3);
  TYPED_COMMANDS.get(args[0]!)!.run(found, args, args.length, out);
  return out.bytes.toString('latin1');
}

t.test('the compact encoding: kind, items, offsets, scores', async (t) => {
  const found = new Found().typed(zset, 0, -1);
  t.equal(found.kind, Kind.Zset);
  t.equal(found.view.length, 3);
  t.same([found.view.score(0), found.view.score(2)], [0.1, Number.POSITIVE_INFINITY]);
  t.equal(KIND_NAMES[Kind.Stream], 'stream');
  const json = Buffer.from('xx["a","b","c"]yy');
  const kept = new Found().typed(withJson(list, json, 2, 15), 0, -1);
  t.same([kept.view.length, kept.view.jsonLength], [3, 13], 'the JSON kept after the items');
  t.equal(kept.view.bytes.toString('latin1', kept.view.jsonStart, kept.view.jsonStart + kept.view.jsonLength), '["a","b","c"]');
  t.equal(run(withJson(list, json, 2, 15), false, 'LRANGE', '0', '-1'), '*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n', 'the items unchanged');
  const empty = new Found().typed(encodeTyped(Kind.Stream, []), 0, -1);
  t.equal(empty.view.length, 0, 'a stream holds no items');
});

t.test('RESP3 shapes as Redis 7.0 writes them; RESP2 unchanged', async (t) => {
  t.equal(run(hash, true, 'HGETALL'), '%2\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$0\r\n\r\n');
  t.equal(run(hash, false, 'HGETALL'), '*4\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$0\r\n\r\n');
  t.equal(run(undefined, true, 'HGETALL'), '%0\r\n', 'an absent hash: the empty map');
  t.equal(run(hash, true, 'HGET', 'nope'), '_\r\n');
  t.equal(run(hash, false, 'HGET', 'nope'), '$-1\r\n');
  t.equal(run(set, true, 'SMEMBERS'), '~2\r\n$1\r\nx\r\n$1\r\ny\r\n');
  t.equal(run(undefined, true, 'SMEMBERS'), '~0\r\n');
  t.equal(run(zset, true, 'ZSCORE', 'a'), ',0.10000000000000001\r\n');
  t.equal(run(zset, false, 'ZSCORE', 'c'), '$3\r\ninf\r\n');
  t.equal(run(zset, true, 'ZMSCORE', 'c', 'nope'), '*2\r\n,inf\r\n_\r\n');
  t.equal(run(zset, true, 'ZRANGE', '0', '1', 'WITHSCORES'), '*2\r\n*2\r\n$1\r\na\r\n,0.10000000000000001\r\n*2\r\n$1\r\nb\r\n,2\r\n');
  t.equal(run(zset, false, 'ZRANGE', '0', '1', 'WITHSCORES'), '*4\r\n$1\r\na\r\n$19\r\n0.10000000000000001\r\n$1\r\nb\r\n$1\r\n2\r\n');
  t.equal(run(zset, true, 'ZRANGEBYSCORE', '(0.1', '+inf', 'WITHSCORES', 'LIMIT', '1', '5'), '*1\r\n*2\r\n$1\r\nc\r\n,inf\r\n');
  t.equal(run(list, true, 'LINDEX', '-1'), '$1\r\nc\r\n');
  t.equal(run(undefined, true, 'LINDEX', 'x'), '_\r\n', 'LINDEX looks at the key first: an absent key is nil whatever the index');
  t.equal(run('hello', true, 'TYPE'), '+string\r\n');
  t.equal(run(hash, false, 'TTL'), ':2\r\n', 'TTL rounds to the nearest second');
  t.equal(run(undefined, false, 'PTTL'), ':-2\r\n');
});

t.test('ZRANGE by score and by lex, forward and REV, with LIMIT', async (t) => {
  const lex = encodeTyped(
    Kind.Zset,
    ['a', 'b', 'c', 'd'].flatMap((m) => [b(m), b('0')]),
  );
  const members = (reply: string): string[] => reply.split('\r\n').filter((_, i) => i > 0 && i % 2 === 0);
  t.same(members(run(lex, false, 'ZRANGE', '[b', '(d', 'BYLEX')), ['b', 'c']);
  t.same(members(run(lex, false, 'ZRANGE', '+', '-', 'BYLEX', 'REV', 'LIMIT', '1', '2')), ['c', 'b']);
  t.same(members(run(lex, false, 'ZRANGE', '-', '+', 'BYLEX', 'LIMIT', '-1', '2')), [], 'a negative offset skips everything');
  t.same(members(run(lex, false, 'ZRANGE', '(b', '(b', 'BYLEX')), [], 'an empty lex range');
  t.same(members(run(lex, false, 'ZRANGE', '+', '[a', 'BYLEX')), [], 'max below min');
  t.same(members(run(lex, false, 'ZRANGE', '[z', '+', 'BYLEX')), []);
  t.same(members(run(zset, false, 'ZRANGE', '+inf', '(0.1', 'BYSCORE', 'REV')), ['c', 'b']);
  t.same(members(run(zset, false, 'ZRANGE', '2', '2', 'BYSCORE')), ['b']);
  t.same(members(run(zset, false, 'ZRANGE', '(2', '2', 'BYSCORE')), [], 'equal bounds, one exclusive');
  t.same(members(run(zset, false, 'ZRANGE', '3', '1', 'BYSCORE')), []);
  t.same(members(run(zset, false, 'ZRANGE', '-inf', '+inf', 'BYSCORE', 'LIMIT', '5', '1')), [], 'an offset past the end');
  t.same(members(run(zset, false, 'ZRANGE', '', 'inf', 'BYSCORE')), ['a', 'b', 'c'], '"" is 0, as strtod reads it');
  t.same(members(run(zset, false, 'ZRANGE', '0', '0', 'REV')), ['c'], 'ranks counted from the top with REV');
  t.equal(run(zset, false, 'ZRANGE', '0', '-1', 'LIMIT', 'x', '1'), '-ERR value is not an integer or out of range\r\n');
  t.equal(run(zset, false, 'ZRANGE', 'x', '-1'), '-ERR value is not an integer or out of range\r\n');
  t.equal(run(zset, false, 'ZRANGE', '0', 'x'), '-ERR value is not an integer or out of range\r\n');
  t.equal(run(zset, false, 'ZRANGE', '0', '-1', 'LIMIT', '0', 'y'), '-ERR value is not an integer or out of range\r\n');
  t.equal(run(hash, false, 'ZRANGE', '0', '-1'), '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n');
  t.equal(run(undefined, false, 'ZRANGE', '0', '-1'), '*0\r\n');
  t.equal(run(zset, false, 'ZRANGE', '0', '-1', 'bogus'), '-ERR syntax error\r\n');
  t.equal(run(zset, false, 'ZRANGE', '(x', '1', 'BYSCORE'), '-ERR min or max is not a float\r\n');
  t.equal(run(zset, false, 'ZRANK', 'b'), ':1\r\n');
  t.equal(run(zset, false, 'ZREVRANK', 'b'), ':1\r\n');
  t.equal(run(zset, false, 'ZREVRANK', 'nope'), '$-1\r\n');
  t.equal(run(undefined, false, 'ZRANK', 'a'), '$-1\r\n');
  t.equal(run(hash, false, 'ZRANK', 'a'), '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n');
  t.equal(run(undefined, false, 'ZSCORE', 'a'), '$-1\r\n');
  t.equal(run(zset, false, 'ZCARD'), ':3\r\n');
});

t.test('errors in the order Redis checks them', async (t) => {
  t.equal(run(hash, false, 'LRANGE', 'x', '1'), '-ERR value is not an integer or out of range\r\n', 'LRANGE parses before the type check');
  t.equal(run(hash, false, 'LRANGE', '0', '1'), '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n');
  t.equal(
    run(zset, false, 'ZRANGE', '0', '1', 'LIMIT', '0', '1'),
    '-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n',
  );
  t.equal(
    run(zset, false, 'ZRANGE', '[a', '[b', 'BYLEX', 'WITHSCORES'),
    '-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n',
  );
  t.equal(
    run(undefined, false, 'ZRANGE', 'x', '1', 'BYSCORE'),
    '-ERR min or max is not a float\r\n',
    'an absent key still parses the range',
  );
  t.equal(run(zset, false, 'ZRANGE', 'a', '+', 'BYLEX'), '-ERR min or max not valid string range item\r\n');
  t.equal(run(zset, false, 'ZRANGEBYSCORE', '0', '1', 'REV'), '-ERR syntax error\r\n', 'ZRANGEBYSCORE takes no REV');
  t.equal(run('abc', false, 'GETRANGE', '-1', '-5'), '$0\r\n\r\n');
  t.equal(run('abc', false, 'GETRANGE', '0', '9223372036854775808'), '-ERR value is not an integer or out of range\r\n', 'past int64');
});

t.test('the JSON views: whole values, ranges, fields, base64 for bytes that are not UTF-8', async (t) => {
  const json = (value: Buffer, write: (found: Found, out: JsonWriter) => unknown): string => {
    const out = new JsonWriter().reset();
    write(new Found().typed(value, 0, -1), out);
    return out.bytes.toString('utf8');
  };
  t.equal(
    json(hash, (f, o) => valueJson(f.view, o)),
    '{"f1":"v1","f2":""}',
  );
  t.equal(
    json(zset, (f, o) => valueJson(f.view, o)),
    '[["a",0.10000000000000001],["b",2],["c","inf"]]',
  );
  t.equal(
    json(list, (f, o) => rangeJson(f.view, '-2', '-1', o)),
    '["b","c"]',
  );
  t.equal(
    json(list, (f, o) => rangeJson(f.view, '5', '9', o)),
    '[]',
  );
  t.equal(
    json(set, (f, o) => t.notOk(rangeJson(f.view, '0', '1', o), 'a set has no range view')),
    '',
  );
  t.equal(fieldItem(new Found().typed(hash, 0, -1).view, 'f2'), 3);
  const odd = encodeTyped(Kind.Hash, [Buffer.from([0xff]), Buffer.from('q"\\\n\u0001')]);
  t.equal(
    json(odd, (f, o) => valueJson(f.view, o)),
    '{"base64:/w==":"q\\"\\\\\\u000a\\u0001"}',
  );
  const bin = encodeTyped(Kind.List, [Buffer.from([0xc3]), Buffer.from('é')]);
  t.same(JSON.parse(json(bin, (f, o) => valueJson(f.view, o))), [{ base64: 'ww==' }, 'é']);
});

t.test('the HTTP query: which view, and what is refused', async (t) => {
  const view = (url: string): unknown => viewOf(url, url.indexOf('?'), 'k', 64);
  t.same(view('/k?field=a%20b'), [HTTP_VIEWS.Field, 'k', 'a b']);
  t.same(view('/k?start=-2'), [HTTP_VIEWS.Range, 'k', '-2', '-1']);
  t.same(view('/k?x=1&stop=3#frag'), [HTTP_VIEWS.Range, 'k', '0', '3']);
  t.equal(view('/k?v=2'), undefined, 'no view asked: a plain GET');
  t.match(view('/k?start=1.5'), /integers/);
  t.match(view('/k?field=a&stop=1'), /not both/);
  t.match(view('/k?field=%zz'), /malformed/);
  t.same(view('/k?field='), [HTTP_VIEWS.Field, 'k', '']);
  const types = parseContentTypes('.json=application/json, .min.json = application/x-min');
  t.equal(contentTypeOf(types, '/a.min.json', 64, 'x'), 'application/x-min', 'the longest suffix first');
  t.equal(contentTypeOf(types, '/a%2Ejson', 64, 'x'), 'application/json', 'on the decoded key');
  t.equal(contentTypeOf(types, '/a.txt', 64, 'x'), 'x');
  t.equal(contentTypeOf(types, '/%zz', 64, 'x'), 'x');
  t.throws(() => contentTypes('.json'));
  t.equal(contentTypes(''), '');
});
