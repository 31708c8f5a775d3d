/**
 * Fuzz of the credential paths of the built proxy: 2,000 malformed
 * `Authorization` headers (each on a connection of its own, raw bytes) get
 * 401 (or node:http's 400 when the header is not HTTP at all), 2,000 AUTH and
 * HELLO … AUTH frames get errors, never OK; the process stays up and a good
 * credential is still served. Seeded: a failure replays.
 */
import t from 'tap';
import net from 'node:net';
import { request } from 'undici';
import { basic, writeAccessFile } from './helpers/access.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { seededRandom } from './helpers/random.js';
import { command, decodeAll, exchange } from './helpers/resp.js';

const redis = await startRedis(t);
await redis.client.set('k:1', 'v');
const ACCESS_FILE = writeAccessFile(t.testdir({}), [{ name: 'web', token: 'web-token-0123456789', keys: ['k:'] }]);
const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '1', RESP_PORT: '0', ACCESS_FILE });
const port = Number(new URL(proxy.url).port);
const random = seededRandom(21);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
const int = (n: number): number => Math.floor(random() * n);

/** Header-value bytes node:http accepts (tab, visible ASCII, space, obs-text) and a few it does not. */
function text(length: number, strict: boolean): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    const r = random();
    out += String.fromCharCode(r < 0.7 ? 0x20 + int(95) : r < 0.85 ? 0x80 + int(128) : r < 0.95 || strict ? 9 : pick([0, 1, 0x7f]));
  }
  return out;
}

const TOKEN = 'web-token-0123456789';
const nearMiss = (): string => {
  const i = int(TOKEN.length);
  return TOKEN.slice(0, i) + String.fromCharCode(TOKEN.charCodeAt(i) ^ (1 + int(31))) + TOKEN.slice(i + 1);
};

function malformed(): string {
  switch (int(10)) {
    case 0:
      return `Bearer ${text(int(80), true)}`;
    case 1:
      return `Bearer ${nearMiss()}`;
    case 2:
      return `${pick(['Basic', 'basic', 'BASIC'])} ${Buffer.from(text(int(60), true), 'latin1').toString('base64')}`;
    case 3:
      return basic(pick(['web', 'Web', 'web ', '', 'x']), pick([nearMiss(), '', TOKEN.slice(1), `${TOKEN}x`]));
    case 4:
      return `Basic ${text(int(40), true)}`;
    case 5:
      return `${text(int(12), true)} ${TOKEN}`;
    case 6:
      return text(int(200), false);
    case 7:
      return `Bearer ${'A'.repeat(1000 + int(7000))}`;
    case 8:
      return pick([
        '',
        ' ',
        'Bearer',
        'Bearer  ',
        'Basic',
        'Basic =',
        'Basic ====',
        `Bearer\t${TOKEN}`,
        `Basic ${Buffer.from('web').toString('base64')}`,
      ]);
    default:
      // Not trailing whitespace only: that is not part of the field value (RFC 9110 §5.5), and the token is then right.
      return `Bearer ${TOKEN}${String.fromCharCode(0x21 + int(94))}${text(int(5), true)}`;
  }
}

/** One request on a connection of its own; resolves with the status line's code (0: closed without one). */
function ask(header: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let got = '';
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\r\n')) socket.destroy();
    });
    socket.once('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0)));
    socket.once('error', () => undefined);
    socket.write(Buffer.from(`GET /k:1 HTTP/1.1\r\nHost: x\r\nAuthorization: ${header}\r\nConnection: close\r\n\r\n`, 'latin1'));
  });
}

t.test('2,000 malformed Authorization headers: 401 (400 when not HTTP), never served', async (t) => {
  const headers = Array.from({ length: 2000 }, malformed);
  const counts = new Map<number, number>();
  for (let i = 0; i < headers.length; i += 50) {
    const codes = await Promise.all(headers.slice(i, i + 50).map(ask));
    for (const c of codes) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  t.comment(`answers: ${JSON.stringify(Object.fromEntries(counts))}`);
  t.same(
    [...counts.keys()].filter((c) => c !== 401 && c !== 400),
    [],
    'only 401 and 400',
  );
  t.ok((counts.get(401) ?? 0) >= 1500, `mostly 401 (${counts.get(401)})`);
  t.equal(proxy.child.exitCode, null, 'still running');
  const ok = await request(`${proxy.url}/k:1`, { headers: { authorization: `Bearer ${TOKEN}` } });
  t.same([ok.statusCode, await ok.body.text()], [200, 'v'], 'a good credential is still served');
});

function argument(): Buffer {
  const r = random();
  if (r < 0.3) return Buffer.from(nearMiss());
  if (r < 0.4) return Buffer.from(pick(['web', 'default', '', 'WEB']));
  // Up to the listener's 64 KiB argument limit (beyond it the connection closes, by design: resp-abuse.test.ts).
  if (r < 0.5) return Buffer.alloc(int(65536), int(256));
  return Buffer.from(Array.from({ length: int(64) }, () => int(256)));
}

t.test('2,000 malformed AUTH and HELLO … AUTH frames: errors, never OK', async (t) => {
  const frames: Buffer[] = [];
  for (let i = 0; i < 2000; i++) {
    const args = Array.from({ length: int(4) }, argument);
    frames.push(random() < 0.7 ? command('AUTH', ...args) : command('HELLO', pick(['2', '3', 'x', '']), 'AUTH', ...args));
  }
  const errors = new Map<string, number>();
  let replies = 0;
  for (let i = 0; i < frames.length; i += 200) {
    const batch = frames.slice(i, i + 200);
    const { data, closed } = await exchange(proxy.respPort!, Buffer.concat([...batch, command('PING')]), {
      replies: batch.length + 1,
      timeoutMs: 20000,
    });
    const got = decodeAll(data);
    t.equal(closed, false, 'the connection stays open');
    t.equal(got.length, batch.length + 1, 'one reply per frame');
    t.same(got.at(-1), { error: 'NOAUTH Authentication required.' }, 'and never logged in');
    for (const reply of got.slice(0, -1)) {
      replies++;
      const e =
        typeof reply === 'object' && reply !== null && 'error' in reply
          ? reply.error.split(' ')[0]!
          : `not an error: ${JSON.stringify(reply)}`;
      errors.set(e, (errors.get(e) ?? 0) + 1);
    }
  }
  t.comment(`replies: ${JSON.stringify(Object.fromEntries(errors))}`);
  t.equal(replies, 2000);
  t.same(
    [...errors.keys()].filter((e) => !['WRONGPASS', 'ERR', 'NOPROTO'].includes(e)),
    [],
    'only errors',
  );
  t.equal(proxy.child.exitCode, null, 'still running');
  const { data } = await exchange(proxy.respPort!, Buffer.concat([command('AUTH', 'web', TOKEN), command('GET', 'k:1')]), { replies: 2 });
  t.same(decodeAll(data), ['OK', 'v'], 'a good login still works');
});
