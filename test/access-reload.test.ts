/**
 * SIGHUP with ACCESS_FILE against the built proxy (two acceptors): a reload
 * under load fails no request; afterwards a revoked token is refused on new
 * connections and kept-alive ones, and a RESP session logged in with it is
 * logged out, while a kept token goes on; a bad file keeps the old one with
 * one error line naming it; a replaced acceptor loads the file as it is.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { Agent, request } from 'undici';
import { accessJson, writeAccessFile, type TestCredential } from './helpers/access.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { command, decodeAll } from './helpers/resp.js';
import { sleep } from './helpers/time.js';

const redis = await startRedis(t);
await redis.client.mset(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k:${i}`, `v${i}`])));
const dir = t.testdir({});
const ops: TestCredential = { name: 'ops', token: 'ops-token', keys: [''], admin: true };
const keep: TestCredential = { name: 'keep', token: 'keep-token', keys: ['k:'] };
const old: TestCredential = { name: 'old', token: 'old-token', keys: ['k:'] };
const ACCESS_FILE = writeAccessFile(dir, [ops, keep, old]);
const proxy = await startProxy(t, {
  REDIS_URL: redis.url,
  SHARDS: '1',
  ACCEPTORS: '2',
  RESP_PORT: '0',
  ACCESS_FILE,
  SHARDCACHE_TEST_HOOKS: '1',
});

/** A status over a connection of its own, so that both acceptors are asked over a few calls. */
async function fresh(path: string, token?: string): Promise<number> {
  const agent = new Agent({ pipelining: 0 });
  try {
    const res = await request(`${proxy.url}${path}`, {
      dispatcher: agent,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });
    await res.body.dump();
    return res.statusCode;
  } finally {
    await agent.close();
  }
}

async function statuses(n: number, token?: string): Promise<number[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => fresh(`/k:${i % 50}`, token)));
}

/** Sends SIGHUP and waits for its `count`-th log line about ACCESS_FILE. */
async function hup(count: number): Promise<void> {
  process.kill(proxy.child.pid!, 'SIGHUP');
  for (let i = 0; i < 200 && (proxy.logs().match(/SIGHUP: ACCESS_FILE/g) ?? []).length < count; i++) await sleep(20);
}

/** A RESP connection: sends one command, resolves with its reply. */
function resp(): { send(...args: string[]): Promise<unknown>; close(): void } {
  const socket = net.connect({ port: proxy.respPort!, host: '127.0.0.1' });
  let buffer = Buffer.alloc(0);
  let waiting: ((r: unknown) => void) | undefined;
  socket.on('data', (d: Buffer) => {
    buffer = Buffer.concat([buffer, d]);
    const [reply] = decodeAll(buffer);
    if (reply !== undefined && waiting) {
      buffer = Buffer.alloc(0);
      const w = waiting;
      waiting = undefined;
      w(reply);
    }
  });
  return {
    send: (...args) =>
      new Promise((resolve) => {
        waiting = resolve;
        socket.write(command(...args));
      }),
    close: () => socket.destroy(),
  };
}

t.test('a reload under load fails nothing; then the revoked token is refused everywhere and the kept one served', async (t) => {
  t.same(new Set(await statuses(20, 'old-token')), new Set([200]), 'old-token reads before the reload');
  const oldSession = resp();
  const keepSession = resp();
  t.teardown(() => {
    oldSession.close();
    keepSession.close();
  });
  t.equal(await oldSession.send('AUTH', 'old', 'old-token'), 'OK');
  t.equal(await keepSession.send('AUTH', 'keep', 'keep-token'), 'OK');
  // A kept-alive connection that read with old-token, asked again after the reload.
  const alive = new Agent({ connections: 1, pipelining: 1 });
  t.teardown(() => alive.close());
  const viaAlive = async (): Promise<number> => {
    const res = await request(`${proxy.url}/k:1`, { dispatcher: alive, headers: { authorization: 'Bearer old-token' } });
    await res.body.dump();
    return res.statusCode;
  };
  t.equal(await viaAlive(), 200);
  let connections = 0;
  alive.on('connect', () => connections++);

  // Load with the kept token on kept-alive connections, across the reload.
  const agent = new Agent({ connections: 8, pipelining: 1 });
  t.teardown(() => agent.close());
  let stop = false;
  const seen = new Map<string, number>();
  const client = async (c: number): Promise<void> => {
    for (let i = 0; !stop; i++) {
      let status: string;
      try {
        const res = await request(`${proxy.url}/k:${(c * 7 + i) % 50}`, {
          dispatcher: agent,
          headers: { authorization: 'Bearer keep-token' },
        });
        await res.body.dump();
        status = String(res.statusCode);
      } catch (err) {
        status = (err as { code?: string }).code ?? 'error';
      }
      seen.set(status, (seen.get(status) ?? 0) + 1);
    }
  };
  const running = Promise.all(Array.from({ length: 8 }, (_, c) => client(c)));
  await sleep(300);
  writeFileSync(ACCESS_FILE, accessJson([ops, keep, { name: 'new', token: 'new-token', keys: ['k:'] }]));
  await hup(1);
  await sleep(300);
  stop = true;
  await running;
  t.match(proxy.logs(), /SIGHUP: ACCESS_FILE \S+access\.json reloaded in every acceptor/);
  t.same([...seen.keys()], ['200'], `every request under load answered 200 (${seen.get('200')} of them)`);
  t.ok((seen.get('200') ?? 0) > 50, 'a real load');

  t.same(new Set(await statuses(30, 'old-token')), new Set([401]), 'old-token refused by every acceptor');
  t.equal(await viaAlive(), 401, 'and on the connection kept alive since before the reload');
  t.equal(connections, 0, 'the same connection');
  t.same(new Set(await statuses(30, 'new-token')), new Set([200]), 'new-token served by every acceptor');
  t.same(await oldSession.send('GET', 'k:1'), { error: 'NOAUTH Authentication required.' }, 'its RESP session is logged out');
  t.same(await keepSession.send('GET', 'k:1'), 'v1', 'a kept credential stays logged in');
});

t.test('a bad file keeps the old one, with one error line naming it; the status shows the last load', async (t) => {
  const before = (proxy.logs().match(/SIGHUP: ACCESS_FILE/g) ?? []).length;
  writeFileSync(ACCESS_FILE, '{"credentials": [{"name": "x", "token_sha256": "nope", "keys": []}]}');
  await hup(before + 1);
  const lines = proxy
    .logs()
    .split('\n')
    .filter((l) => /SIGHUP: ACCESS_FILE/.test(l))
    .slice(before);
  t.equal(lines.length, 1, 'one line');
  t.match(
    lines[0],
    /"level":50.*SIGHUP: ACCESS_FILE \S+access\.json not reloaded, the one loaded before stays in force: credentials\[0\] \(x\): \\"token_sha256\\" must be 64 hex digits/,
  );
  t.same(new Set(await statuses(20, 'new-token')), new Set([200]), 'the old credentials still work');
  const stats = await request(`${proxy.admin}/stats.json`, { headers: { authorization: 'Bearer ops-token' } });
  const files = ((await stats.body.json()) as { files: { setting: string; loadedAt: number; error?: string }[] }).files;
  t.match(files, [{ setting: 'ACCESS_FILE', loadedAt: Number, error: /64 hex digits/ }]);
});

t.test('a replaced acceptor loads the file as it is', async (t) => {
  writeFileSync(ACCESS_FILE, accessJson([ops, keep]));
  const admin = { authorization: 'Bearer ops-token' };
  t.equal((await request(`${proxy.admin}/test/kill-acceptor/1`, { method: 'POST', headers: admin })).statusCode, 200);
  let back = false;
  for (let i = 0; i < 400 && !back; i++) {
    await sleep(25);
    const res = await request(`${proxy.admin}/stats.json`, { headers: admin });
    const a = ((await res.body.json()) as { acceptors: { restarts: number; listening: boolean }[] }).acceptors[1]!;
    back = a.restarts === 1 && a.listening;
  }
  t.ok(back, 'acceptor 1 was replaced and listens');
  t.same(new Set(await statuses(40, 'keep-token')), new Set([200]), 'the replacement knows the credentials');
  t.same(new Set(await statuses(40)), new Set([401]), 'and asks for them');
  t.notMatch(proxy.logs(), /old-token|keep-token|new-token|ops-token/, 'no token in the log');
});
