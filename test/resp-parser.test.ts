import t from 'tap';
import { CommandParser, Parse, type ParserLimits } from '../src/acceptor/resp/parser.js';
import { globMatch } from '../src/acceptor/resp/introspection.js';
import { arrayHeader, encode, error } from '../src/acceptor/resp/reply.js';

const LIMITS: ParserLimits = { maxBulkBytes: 64, maxArgs: 8, maxCommandBytes: 100, maxInlineBytes: 32 };

/** Feeds `input` in pieces of `step` bytes and collects every command, or the error that stopped parsing. */
function parse(input: string | Buffer, step = Infinity, limits = LIMITS): (string[] | string)[] {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const parser = new CommandParser(limits);
  const out: (string[] | string)[] = [];
  for (let at = 0; at < bytes.length; at += Math.min(step, bytes.length)) {
    parser.feed(bytes.subarray(at, Math.min(bytes.length, at + step)));
    for (;;) {
      const r = parser.next();
      if (r === Parse.NeedMore) break;
      if (r === Parse.Error) return [...out, parser.error];
      out.push(parser.args.slice(0, parser.argc));
    }
  }
  return out;
}

const PIPELINE = '*2\r\n$3\r\nGET\r\n$3\r\nk\xff\x00\r\n*1\r\n$4\r\nPING\r\nECHO "a b"\r\n*3\r\n$4\r\nMGET\r\n$0\r\n\r\n$2\r\n\r\n\r\n';
const EXPECTED = [['GET', 'k\xff\x00'], ['PING'], ['ECHO', 'a b'], ['MGET', '', '\r\n']];

t.test('arrays and inline commands, pipelined, binary-safe', async (t) => {
  t.same(parse(PIPELINE), EXPECTED);
});

t.test('the same commands split at every byte boundary', async (t) => {
  for (const step of [1, 2, 3, 5, 7, 11]) t.same(parse(PIPELINE, step), EXPECTED, `pieces of ${step} bytes`);
  const parser = new CommandParser(LIMITS);
  parser.feed(Buffer.from('*1\r\n$4\r\nPI'));
  t.equal(parser.next(), Parse.NeedMore);
  t.equal(parser.buffered, 6, 'only the partial argument is kept');
});

t.test('empty lines, *0 and *-1 carry no command', async (t) => {
  t.same(parse('\r\n\n  \r\n*0\r\n*-1\r\nPING\n'), [['PING']]);
});

t.test('inline quoting as in Redis', async (t) => {
  t.same(parse('SET "a\\x41\\n\\"" \'it\\\'s\' "\\q"\r\n'), [['SET', 'aA\n"', "it's", 'q']]);
  t.same(parse('GET "unterminated\r\n'), ['Protocol error: unbalanced quotes in request']);
  t.same(parse('GET "a"b\r\n'), ['Protocol error: unbalanced quotes in request']);
  t.same(parse('a b c d e f g h i\r\n'), ['Protocol error: invalid multibulk length'], 'more words than maxArgs');
});

t.test('malformed frames are errors with Redis wording', async (t) => {
  const cases: [string, string][] = [
    ['*x\r\n', 'Protocol error: invalid multibulk length'],
    ['*9\r\n', 'Protocol error: invalid multibulk length'],
    ['*\r\n', 'Protocol error: invalid multibulk length'],
    ['*1\rX', 'Protocol error: invalid multibulk length'],
    ['*1\r\n:1\r\n', "Protocol error: expected '$', got ':'"],
    ['*1\r\n\x01', "Protocol error: expected '$', got '\\x01'"],
    ['*1\r\n$-1\r\n', 'Protocol error: invalid bulk length'],
    ['*1\r\n$65\r\n', 'Protocol error: invalid bulk length'],
    ['*1\r\n$1073741824\r\n', 'Protocol error: invalid bulk length'],
    ['*1\r\n$99999999999999999999999\r\n', 'Protocol error: invalid bulk length'],
    ['*1\r\n$1\r\nab\r\n', 'Protocol error: bulk string not terminated by CRLF'],
    [`*2\r\n$60\r\n${'a'.repeat(60)}\r\n$60\r\n${'b'.repeat(60)}\r\n`, 'Protocol error: command too large'],
    [`${'x'.repeat(40)}`, 'Protocol error: too big inline request'],
    [`${'x'.repeat(40)}\r\n`, 'Protocol error: too big inline request'],
  ];
  for (const [input, reason] of cases) {
    t.same(parse(input), [reason], JSON.stringify(input));
    t.same(parse(input, 1), [reason], `${JSON.stringify(input)} byte by byte`);
  }
});

t.test('an announced bulk string is not allocated up front', async (t) => {
  const parser = new CommandParser({ ...LIMITS, maxBulkBytes: 1 << 20 });
  parser.feed(Buffer.from('*1\r\n$1048576\r\n'));
  t.equal(parser.next(), Parse.NeedMore, 'waits for the bytes…');
  t.equal(parser.buffered, 10, '…holding only the header it read, not 1 MiB');
});

t.test('after an error the parser holds nothing', async (t) => {
  const parser = new CommandParser(LIMITS);
  parser.feed(Buffer.from('*1\r\n$1\r\nab\r\nPING\r\n'));
  t.equal(parser.next(), Parse.Error);
  t.equal(parser.buffered, 0);
});

t.test('reply encoding', async (t) => {
  t.equal(encode(['a\xff', 3, null, ['x'], []]).toString('latin1'), '*5\r\n$2\r\na\xff\r\n:3\r\n$-1\r\n*1\r\n$1\r\nx\r\n*0\r\n');
  t.equal(error('ERR bad\r\nline').toString(), '-ERR bad  line\r\n', 'CR and LF cannot end the line early');
  t.equal(arrayHeader(3).toString(), '*3\r\n');
  t.equal(arrayHeader(1000).toString(), '*1000\r\n');
});

t.test('CONFIG GET globs', async (t) => {
  const cases: [string, string, boolean][] = [
    ['save', 'save', true],
    ['*', 'appendonly', true],
    ['app*', 'appendonly', true],
    ['*only', 'appendonly', true],
    ['a*d*y', 'appendonly', true],
    ['s?ve', 'save', true],
    ['s?ve', 'sve', false],
    ['save*x', 'save', false],
    ['sav', 'save', false],
    ['', 'save', false],
  ];
  for (const [pattern, name, match] of cases) t.equal(globMatch(pattern, name), match, `${pattern} ~ ${name}`);
  // A regular expression built from this pattern would backtrack for ever (and time the test out).
  t.equal(globMatch(`${'*a'.repeat(20000)}x`, 'appendonly'), false, 'many stars: answered');
});
