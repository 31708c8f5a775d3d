/**
 * 10,000 malformed or random HTTP requests on raw sockets against the built
 * proxy: bad paths and encodings, huge headers, bad methods and framing,
 * garbage bytes. The proxy must never crash and must answer 4xx to every
 * request that gets an answer. Seeded, so every run sends the same bytes.
 */
import net from 'node:net';
import t from 'tap';
import { agent, get } from './helpers/http.js';
import { scrape, total } from './helpers/metrics.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { seededRandom } from './helpers/random.js';

const COUNT = 10000;
const PARALLEL = 32;

const random = seededRandom(20261124);
const int = (n: number): number => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
const bytes = (n: number, lo = 0, hi = 256): Buffer => Buffer.from(Array.from({ length: n }, () => lo + int(hi - lo)));
const ascii = (n: number): string => bytes(n, 0x21, 0x7f).toString('latin1');

const tail = 'Host: fuzz\r\nConnection: close\r\n\r\n';
const request = (method: string, target: string, extra = ''): Buffer =>
  Buffer.from(`${method} ${target} HTTP/1.1\r\n${extra}${tail}`, 'latin1');

/** One malformed request of each kind in turn. */
const KINDS: (() => Buffer)[] = [
  // Bad paths: malformed escapes, not origin-form, empty, too long.
  () =>
    request(
      'GET',
      pick([
        '/%',
        '/%z',
        '/%zz',
        '/a%4',
        '/%g0',
        `/${ascii(3)}%${ascii(1)}`,
        '*',
        'http://fuzz/x',
        'nopath',
        '/',
        '/?only=query',
        `/${'k'.repeat(65 + int(500))}`,
        `/${'%41'.repeat(65 + int(100))}`,
      ]),
    ),
  // Raw bytes outside visible ASCII in the request target, control characters included.
  () => Buffer.concat([Buffer.from('GET /'), bytes(1 + int(20), 0x80, 0x100), Buffer.from(` HTTP/1.1\r\n${tail}`)]),
  () => Buffer.concat([Buffer.from('GET /a'), bytes(1 + int(3), 0, 0x20), Buffer.from(`b HTTP/1.1\r\n${tail}`)]),
  // Huge headers: one enormous field, or thousands of small ones.
  () => request('GET', '/k', `X-Big: ${'x'.repeat(70000 + int(30000))}\r\n`),
  () => request('GET', '/k', Array.from({ length: 3000 }, (_, i) => `X-${i}: ${ascii(10)}\r\n`).join('')),
  // Garbage bytes, and garbage that starts like a request.
  () => bytes(1 + int(2000)),
  () => Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n'), bytes(1 + int(500))]),
  // Methods other than GET and HEAD, known and invented.
  () =>
    request(
      pick(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PURGE', ascii(1 + int(10)).toUpperCase()]),
      `/${ascii(5).replace(/[%?#]/g, '')}`,
    ),
  // Broken framing and versions.
  () =>
    request(
      'GET',
      '/k',
      pick([
        'Content-Length: 1\r\nContent-Length: 2\r\n',
        'Transfer-Encoding: chunked\r\nContent-Length: 3\r\n',
        'Bad Header: x\r\n',
        'X:\u0000\r\n',
        ' folded: y\r\n',
      ]),
    ),
  () =>
    Buffer.from(
      pick([
        `GET /k HTTP/9.9\r\n${tail}`,
        `GET /k\r\n\r\n`,
        `GET  /k HTTP/1.1\r\n${tail}`,
        `GET /k HTTP/1.1\n${tail}`,
        `\r\n\r\nGET`,
        `GET /k HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`,
      ]),
      'latin1',
    ),
  // Well-formed requests for keys that do not exist (404 is a 4xx too), percent-encoded at random.
  () => request(pick(['GET', 'HEAD']), `/${[...bytes(1 + int(30))].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')}`),
];

interface Result {
  statuses: number[];
  hung: boolean;
}

function send(port: number, payload: Buffer): Promise<Result> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let got = '';
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      socket.destroy();
    }, 10000);
    // Half-close only after a pause: node drops the pending requests of a
    // client that half-closes at once, and the answers are what is checked.
    const end = setTimeout(() => socket.end(), 100);
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    socket.on('error', () => {});
    socket.once('close', () => {
      clearTimeout(timer);
      clearTimeout(end);
      resolve({ statuses: [...got.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1])), hung });
    });
    socket.write(payload);
  });
}

t.test(`${COUNT} malformed requests: no crash, a 4xx for each answered one`, async (t) => {
  const redis = await startRedis(t);
  const proxy = await startProxy(t, {
    REDIS_URL: redis.url,
    SHARDS: '2',
    MAX_KEY_BYTES: '64',
    HEADERS_TIMEOUT_MS: '2000',
    REQUEST_TIMEOUT_MS: '3000',
  });
  const port = Number(new URL(proxy.url).port);
  const payloads = Array.from({ length: COUNT }, (_, i) => KINDS[i % KINDS.length]!());
  const byStatus = new Map<number, number>();
  let answered = 0;
  let silent = 0;
  let hung = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < payloads.length) {
      const result = await send(port, payloads[next++]!);
      if (result.hung) hung++;
      if (result.statuses.length === 0) silent++;
      else answered++;
      for (const s of result.statuses) byStatus.set(s, (byStatus.get(s) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));

  const statuses = [...byStatus.keys()].sort();
  t.equal(proxy.child.exitCode, null, 'the proxy is alive');
  t.equal(hung, 0, 'no connection hung');
  t.same(
    statuses.filter((s) => s < 400 || s > 499),
    [],
    `only 4xx answers: ${statuses.join(', ')}`,
  );
  t.ok(answered > COUNT / 2, `${answered} of ${COUNT} got an answer`);
  await redis.client.set('still', 'serving');
  const http = agent(1);
  t.teardown(() => http.close());
  t.equal((await get(proxy.url, '/still', { dispatcher: http })).body.toString(), 'serving', 'and it still serves');
  const m = await scrape(proxy.admin);
  t.ok(total(m, 'shardcache_requests_total', { protocol: 'http' }) > 0, 'metrics still scrape');
  t.notMatch(proxy.logs(), /\n\s+at /, 'no stack trace in the log');
  t.comment(
    `fuzz: sent ${COUNT}, answered ${answered}, closed without an answer ${silent}, hung ${hung}, crashes 0; by status: ${[...byStatus]
      .sort((a, b) => a[0] - b[0])
      .map(([s, n]) => `${s}×${n}`)
      .join(', ')}`,
  );
});
