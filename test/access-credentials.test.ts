/**
 * ACCESS_FILE's parts (src/access/): the file's checks, each naming the
 * problem and quoting no value; the token check (a hash compared with every
 * digest); Bearer and Basic; key scopes; what a reload does to a credential
 * a session holds. And the start-up error (exit 2) of the built proxy.
 */
import t from 'tap';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { AccessList, current } from '../src/access/access-list.js';
import { connectionCredentialOf, credentialOf, credentialOfValue, LastCredential, sameText } from '../src/access/authorization.js';
import { AccessFileError, loadCredentials, parseCredentials } from '../src/access/credentials.js';
import { ALL_KEYS, Scope } from '../src/access/scope.js';
import { redactJsonError } from '../src/redact.js';
import { accessJson, basic, sha256 } from './helpers/access.js';
import { runProxy } from './helpers/processes.js';

const H = sha256('web-token');
const entry = (over: Record<string, unknown> = {}): Record<string, unknown> => ({ name: 'web', token_sha256: H, keys: ['page:'], ...over });
const file = (...entries: unknown[]): string => JSON.stringify({ credentials: entries });

t.test('a good file: names, digests, scopes (UTF-8 prefixes as binary strings), admin', async (t) => {
  const [web, ops] = parseCredentials(
    file(entry(), { name: 'ops', token_sha256: sha256('o').toUpperCase(), keys: ['', 'é'], admin: true }),
  );
  t.equal(web!.name, 'web');
  t.equal(web!.digest.toString('hex'), H);
  t.same(web!.scope.prefixes, ['page:']);
  t.equal(web!.admin, false, 'admin defaults to false');
  t.equal(ops!.admin, true);
  t.equal(ops!.scope.all, true);
  t.same(ops!.scope.prefixes[1], '\xc3\xa9', 'é as its UTF-8 bytes, as keys arrive');
  t.same(parseCredentials('{"credentials": []}'), [], 'no credentials: nobody gets in');
});

t.test('every bad file is refused with the problem named and no value quoted', async (t) => {
  const cases: [string, RegExp][] = [
    ['{"credentials": [', /^not JSON: /],
    ['{"credentials": [{"name": "web", "token": not-json-secret}]}', /^not JSON: Unexpected character$/],
    ['[]', /not a JSON object/],
    ['{"credentials": [], "users": []}', /unknown field "users" at the top/],
    ['{"credentials": {}}', /"credentials" must be an array/],
    [file('x'), /credentials\[0\]: must be an object/],
    [file(entry({ token: 'secret-token' })), /credentials\[0\]: unknown field "token"/],
    [file(entry({ name: '' })), /"name" must be a non-empty string/],
    [file(entry({ name: 'a:b' })), /without spaces or ':'/],
    [file(entry({ name: 7 })), /"name" must be/],
    [file(entry({ token_sha256: 'abc' })), /credentials\[0\] \(web\): "token_sha256" must be 64 hex digits/],
    [file(entry({ token_sha256: `${H.slice(0, 63)}g` })), /64 hex digits/],
    [file(entry({ keys: 'page:' })), /"keys" must be an array/],
    [file(entry({ keys: [1] })), /"keys" must be an array/],
    [file(entry({ admin: 'yes' })), /"admin" must be true or false/],
    [file(entry(), entry({ token_sha256: sha256('x') })), /credentials\[1\]: duplicate name "web"/],
    [file(entry(), entry({ name: 'other' })), /credentials\[1\] \(other\): the same token_sha256/],
  ];
  for (const [text, problem] of cases) {
    const err = t.throws(() => parseCredentials(text)) as Error;
    t.ok(err instanceof AccessFileError, text);
    t.match(err.message, problem, text);
    t.notMatch(err.message, /secret|abc|yes/, 'no value from the file');
  }
  t.match((t.throws(() => loadCredentials('/nonexistent/access.json')) as Error).message, /cannot read the file: ENOENT/);
  t.equal(redactJsonError('Unexpected token \'s\', "{"a": s3cret}" is not valid JSON'), 'Unexpected character');
  t.equal(redactJsonError("Unexpected token 'x' at position 3"), 'Unexpected character at position 3');
  t.equal(redactJsonError('Unexpected end of JSON input'), 'Unexpected end of JSON input');
});

t.test('tokens: hashed and compared with every digest; Bearer and Basic', async (t) => {
  const list = new AccessList(
    parseCredentials(
      accessJson([
        { name: 'web', token: 'web-token', keys: ['page:'] },
        { name: 'ops', token: 'ops-token', keys: [''], admin: true },
      ]),
    ),
  );
  t.equal(list.byToken('web-token')?.name, 'web');
  t.equal(list.byToken('ops-token')?.name, 'ops');
  t.equal(list.byToken('web-toke'), undefined);
  t.equal(list.byToken(''), undefined);
  t.equal(list.login('ops', 'ops-token')?.name, 'ops');
  t.equal(list.login('web', 'ops-token'), undefined, "another credential's token");
  t.equal(credentialOfValue(list, 'Bearer web-token')?.name, 'web');
  t.equal(credentialOfValue(list, 'bearer   web-token  ')?.name, 'web', 'scheme case-insensitive, spaces around the token');
  t.equal(credentialOfValue(list, basic('ops', 'ops-token'))?.name, 'ops');
  t.equal(credentialOfValue(list, basic('web', 'ops-token')), undefined);
  for (const bad of [
    'Bearer',
    'Bearer ',
    'web-token',
    'Token web-token',
    'Basic !!!',
    'Basic d2Vi',
    `Basic ${Buffer.from('ops-token').toString('base64')}`,
  ])
    t.equal(credentialOfValue(list, bad), undefined, JSON.stringify(bad));
  t.equal(credentialOf(list, ['Host', 'x', 'AUTHORIZATION', 'Bearer web-token'])?.name, 'web');
  t.equal(credentialOf(list, ['Host', 'x']), undefined, 'no header');
  t.equal(credentialOf(list, ['authorization', 'Bearer web-token', 'Authorization', 'Bearer web-token']), undefined, 'two headers');
});

t.test('scopes: any prefix, "" all, [] nothing', async (t) => {
  const s = new Scope(['page:', 'img:']);
  t.ok(s.allows('page:1') && s.allows('img:') && !s.allows('pag') && !s.allows('user:1'));
  t.ok(ALL_KEYS.allows('anything') && ALL_KEYS.allows(''));
  t.notOk(new Scope([]).allows('page:1'));
});

t.test('a reload: a credential kept with its token follows to the new one; revoked or re-keyed ones end', async (t) => {
  const list = new AccessList(
    parseCredentials(
      accessJson([
        { name: 'a', token: 'ta', keys: ['x:'] },
        { name: 'b', token: 'tb', keys: [''] },
        { name: 'c', token: 'tc', keys: [''] },
      ]),
    ),
  );
  const [a, b, c] = list.credentials;
  list.replace(
    parseCredentials(
      accessJson([
        { name: 'a', token: 'ta', keys: ['y:'] },
        { name: 'b', token: 'tb2', keys: [''] },
      ]),
    ),
  );
  t.same(current(a!)?.scope.prefixes, ['y:'], 'the new scope applies');
  t.equal(current(b!), undefined, 'token changed');
  t.equal(current(c!), undefined, 'removed');
  t.equal(list.byToken('tc'), undefined);
  list.replace(parseCredentials(accessJson([{ name: 'a', token: 'ta', keys: ['z:'] }])));
  t.same(current(a!)?.scope.prefixes, ['z:'], 'across two reloads');
});

t.test('the built proxy refuses a bad ACCESS_FILE at start with exit 2, naming the file and the problem', async (t) => {
  const dir = t.testdir({});
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, file(entry({ token_sha256: 'short' })));
  for (const [env, problem] of [
    [{ ACCESS_FILE: join(dir, 'missing.json') }, /ACCESS_FILE=".*missing\.json": cannot read the file: ENOENT/],
    [{ ACCESS_FILE: bad }, /ACCESS_FILE=".*bad\.json": credentials\[0\] \(web\): "token_sha256" must be 64 hex digits/],
  ] as const) {
    const run = await runProxy({ ...env, PORT: '0' });
    t.equal(run.code, 2);
    t.match(run.stderr, problem);
  }
  const flag = await runProxy({ PORT: '0' }, [`--access-file=${bad}`]);
  t.equal(flag.code, 2);
  t.match(flag.stderr, /--access-file=".*bad\.json": /, 'the flag is named when it was the flag');
});

t.test('a connection remembers its last header: one hash per connection until the header or the credentials change', async (t) => {
  const list = new AccessList(parseCredentials(accessJson([{ name: 'web', token: 'web-token', keys: [''] }])));
  const byToken = list.byToken.bind(list);
  let hashed = 0;
  list.byToken = (token: string) => {
    hashed++;
    return byToken(token);
  };
  const last = new LastCredential();
  const headers = ['Host', 'x', 'Authorization', 'Bearer web-token'];
  for (let i = 0; i < 5; i++) t.equal(connectionCredentialOf(list, headers, last)?.name, 'web');
  t.equal(hashed, 1, 'five requests, one hash');
  t.equal(connectionCredentialOf(list, ['Authorization', 'Bearer web-tokem'], last), undefined, 'another header is checked');
  t.equal(connectionCredentialOf(list, ['Authorization', 'Bearer web-tokem'], last), undefined, 'and its refusal remembered');
  t.equal(hashed, 2);
  t.equal(connectionCredentialOf(list, ['Host', 'x'], last), undefined, 'no header: nothing');
  t.equal(connectionCredentialOf(list, headers, last)?.name, 'web');
  t.equal(hashed, 3);
  list.replace([]);
  t.equal(connectionCredentialOf(list, headers, last), undefined, 'a reload voids what was remembered: the token is refused');
  t.equal(hashed, 4);
});

t.test('sameText: equality whatever the lengths', async (t) => {
  t.ok(sameText('Bearer abc', 'Bearer abc'));
  t.ok(sameText('', ''));
  for (const [a, b] of [
    ['Bearer abc', 'Bearer abd'],
    ['Bearer ab', 'Bearer abc'],
    ['Bearer abc', 'Bearer ab'],
    ['', 'x'],
    ['x', ''],
  ])
    t.notOk(sameText(a!, b!), `${a} / ${b}`);
});
