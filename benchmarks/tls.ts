/**
 * `node dist/benchmarks/tls.js [--quick]` (also `npm run bench -- --only=tls`):
 * issue 21's TLS bars, with certificates made for the run (EC P-256, as in
 * the tests), interleaved rounds, medians of per-round ratios:
 *
 * - hit path over HTTPS, keep-alive (wrk, 64 connections, 10k keys of
 *   100 B, all cached): shardcache with TLS_CERT_FILE ÷ a bare node:https
 *   server sending the same headers (`servers/bare-https.ts`);
 * - TLS handshakes per second: 8 `openssl s_time -new` clients (a full
 *   handshake per connection, no resumption, one GET of a cached key each),
 *   connections completed ÷ wall time, against the same two servers;
 * - RESP GET over TLS: `redis-benchmark --tls` at pipeline 1 and 16 against
 *   the proxy's RESP port (cache hits) and against `redis-server --tls-port`
 *   (TLS only, clients not asked for certificates), reported as a ratio.
 *
 * Each measurement also reads the CPU time of the server's threads
 * (`lib/cpu.ts`) and reports it per request (per connection for the
 * handshakes): unlike the rates, that holds on a loaded machine.
 *
 * Writes benchmarks/results/tls.md.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { makeCerts } from '../test/helpers/certs.js';
import { ROOT, freePort, spawnRedisServer, startNode, startProxy, startRedis, stopProcess } from '../test/helpers/processes.js';
import { medianCpu, perRequest, snapshot, type CpuPerRequest } from './lib/cpu.js';
import { cycleTrace, keyName, loadKeys, writePaths } from './lib/data.js';
import { loadRespKeys, redisBenchmark } from './lib/resp-load.js';
import { median } from './lib/stats.js';
import { runWrk } from './lib/wrk.js';

const run = promisify(execFile);
const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 5;
const SECONDS = quick ? 3 : 6;
const CONNECTIONS = 64;
const HANDSHAKE_CLIENTS = 8;
const KEYS = 10000;
const VALUE_BYTES = 100;
const RESP_KEYS = 10000;
const RESP_REQUESTS = quick ? 50000 : 200000;

/** What one measurement served, and in how long. */
interface Served {
  rate: number;
  /** Requests (handshakes: connections) served, for the CPU per request. */
  count: number;
}

/** Connections per second that `HANDSHAKE_CLIENTS` `openssl s_time -new` clients complete on `port`, each GETting `path`. */
async function handshakes(port: number, path: string): Promise<Served> {
  const started = performance.now();
  const outs = await Promise.all(
    Array.from({ length: HANDSHAKE_CLIENTS }, () =>
      run('openssl', ['s_time', '-connect', `127.0.0.1:${port}`, '-new', '-time', String(SECONDS), '-www', path], { maxBuffer: 1 << 24 }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  let connections = 0;
  for (const { stdout } of outs) {
    const m = /^(\d+) connections in [\d.]+s;/m.exec(stdout);
    if (m === null) throw new Error(`unexpected openssl s_time output:\n${stdout.slice(-500)}`);
    connections += Number(m[1]);
  }
  return { rate: connections / seconds, count: connections };
}

/** A measurement of one server: how to load it, and its process (for the CPU time of its threads). */
interface Measure {
  load: () => Promise<Served>;
  pid: number;
}

/** The per-round figures of a base and an other server. */
interface Interleaved {
  base: number[];
  other: number[];
  ratios: number[];
  /** Median CPU µs per request of each, all threads summed. */
  baseUs: number;
  otherUs: number;
}

/** `base` and `other` measured in turn, `ROUNDS` times, the first of each pair alternating; the per-round ratios other ÷ base. */
async function interleaved(what: string, names: [string, string], measure: [Measure, Measure]): Promise<Interleaved> {
  const out = { base: [] as number[], other: [] as number[], ratios: [] as number[] };
  const cpu: CpuPerRequest[][] = [[], []];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    const got: number[] = [];
    for (const i of order) {
      const before = snapshot([measure[i]!.pid]);
      const served = await measure[i]!.load();
      cpu[i]!.push(perRequest(before, snapshot([measure[i]!.pid]), served.count));
      got[i] = served.rate;
    }
    out.base.push(got[0]!);
    out.other.push(got[1]!);
    out.ratios.push(got[1]! / got[0]!);
    const us = (k: number): string => `${cpu[k]!.at(-1)!.totalUs.toFixed(1)} µs CPU each`;
    console.log(
      `round ${round + 1} ${what}: ${names[0]} ${got[0]!.toFixed(0)}/s (${us(0)}), ${names[1]} ${got[1]!.toFixed(0)}/s (${us(1)}), ratio ${out.ratios.at(-1)!.toFixed(3)}`,
    );
  }
  return { ...out, baseUs: medianCpu(cpu[0]!)!.totalUs, otherUs: medianCpu(cpu[1]!)!.totalUs };
}

const row = (what: string, r: Interleaved, bar: string): string =>
  `| ${what} | ${median(r.base).toFixed(0)} | ${median(r.other).toFixed(0)} | ${r.ratios.map((x) => x.toFixed(3)).join(', ')} | **${median(r.ratios).toFixed(3)}** | ${bar} | ${r.baseUs.toFixed(1)} / ${r.otherUs.toFixed(1)} |`;

async function main(): Promise<void> {
  const teardowns: (() => unknown)[] = [];
  const t = { teardown: (fn: () => unknown) => teardowns.push(fn) };
  const work = mkdtempSync(join(tmpdir(), 'shardcache-bench-tls-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const lines: string[] = [];
  try {
    const certs = await makeCerts(t);
    const tls = { TLS_CERT_FILE: certs.server.cert, TLS_KEY_FILE: certs.server.key };
    const redis = await startRedis(t);
    await loadKeys(redis.client, KEYS, VALUE_BYTES);
    await loadRespKeys(redis, RESP_KEYS);
    const paths = writePaths(work, 'tls', cycleTrace(KEYS), VALUE_BYTES, 'plain');
    const bare = await startNode(t, 'dist/benchmarks/servers/bare-https.js', { ...tls, BODY_BYTES: String(VALUE_BYTES) });
    const proxy = await startProxy(t, { REDIS_URL: redis.url, CACHE_CAPACITY: '100000', CACHE_TTL_MS: '3600000', RESP_PORT: '0', ...tls });
    console.log(`\n== TLS: shardcache (${/\((\d+ acceptors?, \d+ shards?)/.exec(proxy.logs())?.[1]}) against bare node:https`);
    const wrk = (url: string, pid: number): Measure => ({
      pid,
      load: async () => {
        const r = await runWrk({ url, pathsFile: paths, connections: CONNECTIONS, seconds: SECONDS });
        return { rate: r.rps, count: r.requests };
      },
    });
    for (const url of [bare.url, proxy.url]) await runWrk({ url, pathsFile: paths, connections: CONNECTIONS, seconds: quick ? 1 : 3 });
    const names: [string, string] = ['bare node:https', 'shardcache'];
    const [barePid, proxyPid] = [bare.child.pid!, proxy.child.pid!];
    const hit = await interleaved('HTTPS hit path (keep-alive)', names, [wrk(bare.url, barePid), wrk(proxy.url, proxyPid)]);
    const path = `/${keyName(VALUE_BYTES, 0)}`;
    const port = (url: string): number => Number(new URL(url).port);
    const hs = await interleaved('TLS handshakes', names, [
      { pid: barePid, load: () => handshakes(port(bare.url), path) },
      { pid: proxyPid, load: () => handshakes(port(proxy.url), path) },
    ]);

    // Redis over TLS only (--port 0); PING and the key loading go over a unix socket.
    const redisTlsPort = await freePort();
    const socket = join(work, 'redis-tls.sock');
    const redisTls = await spawnRedisServer(
      0,
      [
        '--tls-port',
        String(redisTlsPort),
        '--tls-cert-file',
        certs.server.cert,
        '--tls-key-file',
        certs.server.key,
        '--tls-ca-cert-file',
        certs.ca,
        '--tls-auth-clients',
        'no',
        '--unixsocket',
        socket,
      ],
      '127.0.0.1',
      ['redis-server'],
      { path: socket },
    );
    t.teardown(() => stopProcess(redisTls));
    const loader = new Redis({ path: socket });
    await loadRespKeys({ client: loader }, RESP_KEYS);
    loader.disconnect();
    const load = { keys: RESP_KEYS, requests: RESP_REQUESTS, clients: 50 };
    const withTls = ['--tls', '--cacert', certs.ca];
    // One unmeasured run reads (nearly) every key once: what follows is cache hits.
    await redisBenchmark(proxy.respPort!, 'GET', 16, { ...load, requests: RESP_KEYS * 20 }, withTls);
    const resp = [];
    for (const pipeline of [1, 16]) {
      const bench = (p: number, pid: number): Measure => ({
        pid,
        load: async () => ({ rate: await redisBenchmark(p, 'GET', pipeline, load, withTls), count: load.requests }),
      });
      resp.push({
        pipeline,
        r: await interleaved(
          `RESP GET P${pipeline} over TLS`,
          ['Redis --tls-port', 'shardcache'],
          [bench(redisTlsPort, redisTls.pid!), bench(proxy.respPort!, proxyPid)],
        ),
      });
    }
    lines.push(
      `Run ${new Date().toISOString()}${quick ? ' (--quick)' : ''}: ${ROUNDS} interleaved rounds of ${SECONDS} s (RESP: ${RESP_REQUESTS} commands, 50 clients), EC P-256 certificate, TLS 1.3; medians of per-round ratios. shardcache at its default threads for this machine.`,
      '',
      '| scenario | baseline /s | shardcache /s | per-round ratios | median ratio | bar | CPU µs per request (handshakes: per connection), baseline / shardcache |',
      '| --- | ---: | ---: | --- | ---: | --- | ---: |',
      row(`HTTPS hit path, keep-alive (wrk, ${CONNECTIONS} connections): bare node:https → shardcache`, hit, '≥ 0.9'),
      row(`TLS handshakes (${HANDSHAKE_CLIENTS} × openssl s_time -new, one GET each): bare node:https → shardcache`, hs, '≥ 0.9'),
      ...resp.map(({ pipeline, r }) =>
        row(`RESP GET over TLS, pipeline ${pipeline} (redis-benchmark --tls): Redis → shardcache`, r, 'reported'),
      ),
    );
  } finally {
    for (const fn of teardowns.reverse()) await fn();
  }
  const text = lines.join('\n');
  console.log(`\n${text}`);
  writeFileSync(join(ROOT, 'benchmarks/results/tls.md'), `${text}\n`);
}

main().catch((err: Error) => {
  console.error(`TLS benchmark failed: ${err.message}`);
  process.exitCode = 1;
});
