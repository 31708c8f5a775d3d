/**
 * redis-py 6 against the built proxy over the network, in front of a real
 * redis-server, with `protocol=2` and `protocol=3` (RESP3, which redis-py has
 * since 5.0). The machine's own python3-redis is Debian bookworm's 4.3.4 (RESP2
 * only, tested in clients.test.ts) and PyPI is out of reach, so
 * test/redis-py-trixie.sh fetches Debian trixie's python3-redis (6.1.0 now;
 * pure Python) from deb.debian.org into .cache/redis-py-6/ and it runs under
 * /usr/bin/python3 with bookworm's python3-async-timeout. No mirror, no
 * redis-py 6: this test fails, it does not skip.
 *
 * test/redis-py-reads.py sends the same reads (GET, MGET with a missing key
 * and a hash, HGETALL, HGET, SMEMBERS, ZSCORE, ZRANGE WITHSCORES, LRANGE, a
 * WRONGTYPE, the default `pipeline()` (MULTI/EXEC) and
 * `pipeline(transaction=False)`, and the replies as the parser framed them) to
 * Redis and to the proxy, twice (a miss, then the cache), and the JSON outputs,
 * every value with its Python type, must be equal. Then the explicit checks:
 * RESP3 negotiated (HELLO's map, `proto` 3), HGETALL a dict, scores floats, a
 * write in a pipeline raising with the proxy's words, the EXEC count. And
 * redis-py 6's client-side cache (`cache_config=CacheConfig()`): it fails to
 * connect to the proxy, which refuses its CLIENT TRACKING ON (docs/resp.md).
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { scrape, total } from './helpers/metrics.js';
import { ROOT, startProxy, startRedis } from './helpers/processes.js';

const run = promisify(execFile);

/** The folder holding redis-py 6, or why there is none. */
let site: string | undefined;
try {
  site = (await run('bash', [join(ROOT, 'test/redis-py-trixie.sh')], { timeout: 180_000 })).stdout.trim().split('\n').pop();
} catch (err) {
  const e = err as Error & { stderr?: string };
  t.fail(`redis-py 6 could not be fetched from Debian trixie (test/redis-py-trixie.sh): ${e.stderr?.trim() || e.message}`);
}

if (site !== undefined) {
  const redis = await startRedis(t);
  const proxy = await startProxy(t, { REDIS_URL: redis.url, SHARDS: '2', RESP_PORT: '0', CACHE_TTL_MS: '60000' });
  const port = proxy.respPort!;
  await redis.client.mset('py:s', 'alpha', 'py:s2', 'beta');
  await redis.client.hset('py:h', 'f1', 'v1', 'f2', 'v2', 'n', '42');
  await redis.client.sadd('py:set', 'a', 'b', 'c');
  await redis.client.zadd('py:z', '1.5', 'm1', '2', 'm2', '-0.25', 'm3');
  await redis.client.rpush('py:l', 'x', 'y', 'z');

  type Out = Record<string, unknown>;
  const py = async (target: number, protocol: 2 | 3, mode: 'reads' | 'proxy' | 'cache'): Promise<Out> => {
    const { stdout } = await run('/usr/bin/python3', [join(ROOT, 'test/redis-py-reads.py'), String(target), String(protocol), mode], {
      env: { ...process.env, PYTHONPATH: site },
      timeout: 60_000,
    });
    return JSON.parse(stdout) as Out;
  };
  /** RESP commands the proxy counted by name, all outcomes together. */
  const counted = async (command: string): Promise<number> =>
    total(await scrape(proxy.admin), 'shardcache_requests_total', { protocol: 'resp', command });
  const f = (x: string) => ({ float: x });
  const wrongtype = { error: 'ResponseError: WRONGTYPE Operation against a key holding the wrong kind of value' };

  for (const protocol of [2, 3] as const) {
    t.test(`redis-py 6 with protocol=${protocol}: the proxy answers the reads as Redis does, from a miss and from the cache`, async (t) => {
      const fromRedis = await py(redis.port, protocol, 'reads');
      const execs = await counted('EXEC');
      const miss = await py(port, protocol, 'reads');
      const hit = await py(port, protocol, 'reads');
      t.equal(await counted('EXEC'), execs + 2, 'each run sent its default pipeline() as MULTI … EXEC, transaction=False none');
      t.match(fromRedis.version, /^([5-9]|\d\d+)\./, `redis-py ${String(fromRedis.version)}, 5 or later`);
      t.same(miss, fromRedis, 'the first run (misses): the same JSON as from Redis');
      t.same(hit, fromRedis, 'the second run (from the cache): the same JSON as from Redis');

      // What the JSON holds, for the proxy: explicit, so that a change in both (redis-py's, say) shows.
      t.equal(hit.protocol, protocol, `the connection speaks RESP${protocol}`);
      t.equal(hit.handshake_proto, protocol === 3 ? 3 : null, protocol === 3 ? 'HELLO 3 answered proto 3' : 'no HELLO on RESP2');
      t.same(hit.get, ['alpha', null, wrongtype], 'GET: a value, a missing key, a hash');
      t.same(hit.mget, ['alpha', null, null, 'beta'], 'MGET: a missing key and a hash are nil');
      const hash = {
        dict: [
          ['f1', 'v1'],
          ['f2', 'v2'],
          ['n', '42'],
        ],
      };
      t.same(hit.hgetall, [hash, { dict: [] }], 'HGETALL: a dict; a missing key an empty one');
      t.same(hit.hget, ['v1', null], 'HGET');
      t.same(hit.smembers, { set: ['a', 'b', 'c'] }, 'SMEMBERS: a set');
      t.same(hit.zscore, [f('1.5'), f('2.0'), null], 'ZSCORE: floats, nil for no member');
      const pairs = [
        ['m3', f('-0.25')],
        ['m1', f('1.5')],
        ['m2', f('2.0')],
      ];
      // redis-py 6 gives RESP2's WITHSCORES as tuples and RESP3's as lists, from either server.
      const zrange = protocol === 3 ? pairs : pairs.map((p) => ({ tuple: p }));
      t.same(hit.zrange, zrange, 'ZRANGE … WITHSCORES: member and float score');
      t.same(hit.lrange, ['x', 'y', 'z'], 'LRANGE');
      const inPipeline = [
        'alpha',
        null,
        ['alpha', null, null, 'beta'],
        hash,
        'v1',
        { set: ['a', 'b', 'c'] },
        f('1.5'),
        zrange,
        ['x', 'y', 'z'],
        wrongtype,
      ];
      t.same(hit.pipeline, inPipeline, 'the default pipeline() (MULTI/EXEC), a WRONGTYPE among its replies');
      t.same(hit.plain, inPipeline, 'pipeline(transaction=False)');
      const raw = hit.raw as Out;
      if (protocol === 3) {
        t.same(raw.HGETALL, hash, 'HGETALL framed as a RESP3 map (a dict before any callback)');
        t.same(raw.ZSCORE, f('1.5'), 'ZSCORE framed as a RESP3 double');
        t.same(raw.ZRANGE, pairs, 'WITHSCORES framed as [member, double] pairs');
      } else {
        t.same(raw.HGETALL, ['f1', 'v1', 'f2', 'v2', 'n', '42'], 'HGETALL a flat RESP2 array');
        t.same(raw.ZSCORE, '1.5', 'ZSCORE a bulk string');
      }
    });

    t.test(`redis-py 6 with protocol=${protocol}: HELLO, and a write in a pipeline raising with the proxy's words`, async (t) => {
      const execs = await counted('EXEC');
      const got = await py(port, protocol, 'proxy');
      t.same(
        got.hello_method,
        { error: 'NotImplementedError: HELLO is intentionally not implemented in the client.' },
        'r.hello() is refused by redis-py itself',
      );
      t.equal(got.protocol, protocol);
      if (protocol === 3) {
        for (const what of ['hello', 'handshake'] as const) {
          const map = Object.fromEntries((got[what] as { dict: [string, unknown][] }).dict);
          t.equal(map.proto, 3, `${what}: proto 3`);
          t.equal(map.server, 'shardcache', `${what}: a map from the proxy`);
        }
      } else {
        t.equal(got.handshake, null, 'RESP2: redis-py sends no HELLO');
        const hello = got.hello as unknown[];
        t.ok(Array.isArray(hello), 'HELLO 2 answers a flat array');
        t.equal(hello[hello.indexOf('proto') + 1], 2, 'proto 2');
      }
      t.match(got.write, { error: /^ResponseError: .*unknown or unsupported command 'SET'/ }, 'a write in the pipeline raises, naming it');
      t.equal(got.after, 'alpha', 'and the connection still reads');
      t.equal(await redis.client.get('py:s'), 'alpha', 'nothing reached Redis');
      t.equal(await counted('EXEC'), execs + 1, 'the failed pipeline was MULTI … EXEC');
    });
  }

  // On connect, a caching client sends HELLO 3, CLIENT SETINFO, then CLIENT TRACKING ON (its connect
  // callback), and only then checks HELLO's map: server "redis", version 7.4.0 or later, else it refuses.
  t.test('redis-py 6 client-side caching (protocol=3, cache_config=CacheConfig()) fails to connect, with a clear error', async (t) => {
    const fromProxy = await py(port, 3, 'cache');
    t.comment(`proxy: ${JSON.stringify(fromProxy.get)}`);
    t.same(
      fromProxy.get,
      [
        { error: "ResponseError: unknown or unsupported command 'CLIENT TRACKING'" },
        {
          error:
            'ConnectionError: To maximize compatibility with all Redis products, client-side caching is supported by Redis 7.4 or later',
        },
      ],
      "the proxy refuses CLIENT TRACKING ON; the next command finds the connection open and fails redis-py's own server check (server shardcache)",
    );
    // Redis itself, for comparison: a redis-server before 7.4 (Debian's is 7.0) accepts CLIENT TRACKING ON
    // and is then refused by the same check.
    const fromRedis = await py(redis.port, 3, 'cache');
    t.comment(`redis-server: ${JSON.stringify(fromRedis.get)}`);
  });
}
