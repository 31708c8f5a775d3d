/**
 * The clients people run, against the built proxy over the network, in
 * front of a real redis-server: node-redis 5 on RESP2 and RESP3, redis-py
 * (Debian's 4.3.4: RESP2 only; redis-py 6 with protocol=3 is in
 * redis-py.test.ts) with its default MULTI/EXEC pipeline and
 * without, ioredis 6 on its default RESP3 and on RESP2, and redis-cli -2
 * and -3, whose output is compared with what the same redis-cli prints for
 * Redis itself.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { startProxy, startRedis } from './helpers/processes.js';
import { scrape, total } from './helpers/metrics.js';

const run = promisify(execFile);
const redis = await startRedis(t);
const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', RESP_PORT: '0', CACHE_TTL_MS: '60000' });
const port = proxy.respPort!;
await redis.client.mset('c:a', 'alpha', 'c:b', 'beta');
await redis.client.rpush('c:list', 'x');

/** RESP commands the proxy counted by name, all outcomes together. */
async function counted(command: string): Promise<number> {
  return total(await scrape(proxy.admin), 'shardcache_requests_total', { protocol: 'resp', command });
}

for (const RESP of [2, 3] as const) {
  t.test(`node-redis 5 with RESP: ${RESP}: GET, MGET, MULTI and a pipeline of reads`, async (t) => {
    const c = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false }, RESP });
    const errors: Error[] = [];
    c.on('error', (err: Error) => errors.push(err));
    await c.connect();
    t.teardown(() => c.destroy());
    t.equal(await c.get('c:a'), 'alpha');
    t.equal(await c.get('c:none'), null);
    t.same(await c.mGet(['c:a', 'c:none', 'c:list', 'c:b']), ['alpha', null, null, 'beta']);
    const execs = await counted('EXEC');
    t.same(await c.multi().get('c:a').get('c:none').mGet(['c:b', 'c:none']).exec(), ['alpha', null, ['beta', null]], 'MULTI … EXEC');
    t.equal(await counted('EXEC'), execs + 1, 'sent as MULTI … EXEC');
    t.same(await c.multi().get('c:b').get('c:none').execAsPipeline(), ['beta', null], 'a pipeline');
    await t.rejects(c.multi().get('c:a').set('c:a', 'x').exec(), 'a write inside MULTI fails the transaction');
    t.equal(await redis.client.get('c:a'), 'alpha', 'and reaches no Redis');
    // RESP3 maps reach the application as objects, RESP2's flat arrays as they are.
    const hello = (await c.sendCommand(['HELLO'])) as unknown;
    const proto = Array.isArray(hello) ? hello[5] : (hello as { proto: number }).proto;
    t.equal(proto, RESP, `the connection speaks RESP${RESP}`);
    t.equal(Array.isArray(hello), RESP === 2, RESP === 3 ? 'HELLO is a map' : 'HELLO is an array');
    t.match(await c.info(), /^# Server\r\nredis_version:7\.0\.0\r\n/);
    t.same({ ...(await c.configGet('save')) }, { save: '' });
    t.equal(await c.ping(), 'PONG');
    t.same(errors, [], 'no connection errors');
  });
}

t.test('redis-py (Debian python3-redis): pipeline() wraps reads in MULTI/EXEC, pipeline(transaction=False) does not', async (t) => {
  const script = `
import json, sys, redis
r = redis.Redis(host='127.0.0.1', port=int(sys.argv[1]))
out = {'version': redis.__version__, 'get': [r.get('c:a'), r.get('c:none')], 'mget': r.mget('c:a', 'c:none', 'c:list')}
p = r.pipeline()
p.get('c:a'); p.get('c:none'); p.mget('c:b', 'c:none')
out['pipeline'] = p.execute()
p = r.pipeline(transaction=False)
p.get('c:b'); p.get('c:none')
out['plain'] = p.execute()
try:
    p = r.pipeline(); p.get('c:a'); p.set('c:a', 'changed'); p.execute()
except redis.ResponseError as e:
    out['write'] = str(e)
enc = lambda v: v.decode('latin1') if isinstance(v, bytes) else [enc(x) for x in v] if isinstance(v, list) else v
print(json.dumps({k: enc(v) for k, v in out.items()}))
`;
  const before = { multi: await counted('MULTI'), exec: await counted('EXEC') };
  const { stdout } = await run('/usr/bin/python3', ['-c', script, String(port)]);
  const got = JSON.parse(stdout) as Record<string, unknown>;
  t.equal(got.version, '4.3.4', 'the version this test ran (it has no protocol=3: RESP3 came in redis-py 5.0)');
  t.same(got.get, ['alpha', null]);
  t.same(got.mget, ['alpha', null, null]);
  t.same(got.pipeline, ['alpha', null, ['beta', null]]);
  t.same(got.plain, ['beta', null]);
  t.match(got.write, /unknown or unsupported command 'SET'/, 'a write in the pipeline raises, naming it');
  t.equal(await redis.client.get('c:a'), 'alpha');
  const after = { multi: await counted('MULTI'), exec: await counted('EXEC') };
  t.equal(after.exec - before.exec, 2, 'two EXECs: the default pipeline and the failed one; none for transaction=False');
  t.ok(after.multi - before.multi >= 2, 'MULTI was sent');
});

for (const protocol of [undefined, 2] as const) {
  t.test(`ioredis 6 ${protocol === undefined ? 'by default (RESP3)' : 'with protocol: 2'}: MULTI and pipelines`, async (t) => {
    const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, ...(protocol ? { protocol } : {}) });
    t.teardown(() => c.disconnect());
    await c.connect();
    t.same(await c.multi().get('c:a').get('c:none').mget('c:a', 'c:none').exec(), [
      [null, 'alpha'],
      [null, null],
      [null, ['alpha', null]],
    ]);
    t.same(await c.pipeline().get('c:b').get('c:none').exec(), [
      [null, 'beta'],
      [null, null],
    ]);
    await t.rejects(c.multi().get('c:a').set('c:a', 'x').exec(), /EXECABORT/);
    t.equal(((await c.call('HELLO')) as unknown[])[5], protocol ?? 3);
  });
}

t.test('redis-cli -2 and -3 print for the proxy what they print for Redis', async (t) => {
  const cli = async (target: number, args: string[], input?: string): Promise<string> => {
    if (input === undefined) return (await run('redis-cli', ['-p', String(target), ...args])).stdout;
    return new Promise((resolve, reject) => {
      const child = execFile('redis-cli', ['-p', String(target), ...args], (err, stdout) => (err ? reject(err) : resolve(stdout)));
      child.stdin!.end(input);
    });
  };
  for (const proto of ['-2', '-3']) {
    for (const raw of [[], ['--no-raw']]) {
      const cases: [string[], string?][] = [
        [['GET', 'c:a']],
        [['GET', 'c:none']],
        [['MGET', 'c:a', 'c:none', 'c:list']],
        [['GET', 'c:list']],
        [['CONFIG', 'GET', 'save']],
        [['CLIENT', 'GETNAME']],
        [[], 'MULTI\nGET c:a\nGET c:none\nMGET c:b c:none\nEXEC\nGET c:b\n'],
        [[], 'MULTI\nGET\nGET c:a\nEXEC\nEXEC\n'],
      ];
      for (const [args, input] of cases) {
        const argv = [proto, ...raw, ...args];
        const [fromRedis, fromProxy] = [await cli(redis.port, argv, input), await cli(port, argv, input)];
        t.equal(fromProxy, fromRedis, `redis-cli ${argv.join(' ')}${input ? ` < ${JSON.stringify(input)}` : ''}`);
      }
    }
    t.match(
      await cli(port, [proto, '--no-raw', 'HELLO']),
      proto === '-3' ? /^1# "server" => "shardcache"\n/ : /^ 1\) "server"\n 2\) "shardcache"\n/,
    );
  }
});
