/**
 * The differential test of the typed reads: the same generated command to a
 * real Redis and to the built proxy in front of it, the replies compared
 * byte for byte. Thousands of commands over data of every type (empty and
 * binary keys and values, negative and out-of-range indexes, missing
 * fields, wrong types, arity and syntax errors), each batch twice: first
 * through misses, then from the cache.
 *
 * Then once more with MAX_VALUE_BYTES=64, where most values are too large
 * to cache: the first pass reads them whole and answers from what it read,
 * the second forwards each command to Redis (`src/shard/forward.ts`), its
 * reply written again for the client. MONITOR proves the second pass
 * forwarded: no key but an absent one (or one a GET named, which reads as a
 * string first) is read whole by the typed script again.
 */
import t from 'tap';
import { commandCalls } from './helpers/commandstats.js';
import { startProxy, startRedis } from './helpers/processes.js';
import { command, RespPipe } from './helpers/resp.js';
import { typedCommands, writeTypedData } from './helpers/typed-data.js';

const COMMANDS = 4000;
/** Fewer for the oversized run: each of its second pass is a round trip to Redis. */
const OVERSIZED_COMMANDS = 1200;
const BATCH = 200;

const redis = await startRedis(t);
const keys = await writeTypedData(redis.client, 22);

/** Before and after a second pass: what it may show. */
interface PassHooks {
  before(): Promise<void>;
  after(batch: string[][]): Promise<void>;
}

/** What `differential` asks of its test. */
interface Checks {
  teardown(fn: () => unknown): void;
  equal(a: unknown, b: unknown, m: string): void;
  ok(v: unknown, m: string): void;
  same(a: unknown, b: unknown, m: string): void;
}

/** Runs `count` generated commands through a proxy started with `env`, each batch twice, comparing every reply with Redis's. */
async function differential(t: Checks, protocol: number, env: Record<string, string>, count: number, hooks?: PassHooks): Promise<void> {
  // A proxy each, so that each protocol starts with an empty cache.
  const proxy = await startProxy(t, { REDIS_URL: redis.url, RESP_PORT: '0', SHARDS: '2', ...env });
  const direct = await RespPipe.open(redis.port);
  const through = await RespPipe.open(proxy.respPort!);
  t.teardown(() => {
    direct.close();
    through.close();
  });
  // HELLO's own reply names the server: not compared.
  for (const pipe of [direct, through]) await pipe.send([command('HELLO', String(protocol))]);
  const commands = typedCommands(keys, count, Number(process.env.TYPED_SEED ?? 2022));
  let compared = 0;
  /** What Redis answered, by kind: the test must have met every one. */
  const kinds = new Map<string, number>();
  const mismatches: string[] = [];
  for (let from = 0; from < commands.length; from += BATCH) {
    const batch = commands.slice(from, from + BATCH);
    const wire = batch.map((args) => command(...args));
    const expected = await direct.send(wire);
    for (const reply of expected) {
      const kind = kindOf(reply);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    // Twice: the first pass fetches, the second answers from the cache (or forwards).
    for (const pass of ['miss', 'hit']) {
      if (pass === 'hit') await hooks?.before();
      const got = await through.send(wire);
      if (pass === 'hit') await hooks?.after(batch);
      for (let i = 0; i < batch.length; i++) {
        compared++;
        if (same(batch[i]!, expected[i]!, got[i]!)) continue;
        mismatches.push(`${pass} ${JSON.stringify(batch[i])} redis ${show(expected[i]!)} proxy ${show(got[i]!)}`);
      }
    }
  }
  t.equal(compared, 2 * count, 'every command was compared twice');
  for (const kind of [
    'WRONGTYPE',
    'not an integer',
    'syntax error',
    'wrong number',
    'not a float',
    'not valid string range',
    'nil',
    'empty array',
    'array',
    'integer',
    'bulk',
    'status',
    ...(protocol === 3 ? ['map', 'set', 'double'] : []),
  ])
    t.ok((kinds.get(kind) ?? 0) > 0, `Redis answered ${kind} ${kinds.get(kind) ?? 0} times`);
  t.same(mismatches.slice(0, 20), [], `${mismatches.length} of ${compared} replies differ`);
}

for (const protocol of [2, 3])
  t.test(`RESP${protocol}: every generated read answers as Redis does, byte for byte, on a miss and on a hit`, (t) =>
    differential(t, protocol, {}, COMMANDS),
  );

/** Commands the typed script never calls: their calls in Redis's commandstats are the forwarded ones. */
const FORWARDED_ONLY = [
  'hget',
  'hmget',
  'hkeys',
  'hvals',
  'hlen',
  'hexists',
  'hstrlen',
  'lindex',
  'llen',
  'sismember',
  'smismember',
  'scard',
];
const FORWARDED_ZSET = ['zscore', 'zmscore', 'zcard', 'zrank', 'zrevrank', 'zrangebyscore', 'strlen', 'getrange'];

for (const protocol of [2, 3])
  t.test(
    `RESP${protocol}, MAX_VALUE_BYTES=64: values too large to cache answer as Redis does, read whole first, then forwarded`,
    async (t) => {
      const lines: string[] = [];
      const feed = await redis.client.monitor();
      feed.on('monitor', (_time: string, args: string[], source: string) => {
        if (source.startsWith('lua') && args[0]?.toUpperCase() === 'TYPE') lines.push(args[1] ?? '');
      });
      t.teardown(() => feed.disconnect());
      let forwarded = 0;
      let calls = 0;
      const unexpected = new Set<string>();
      await differential(t, protocol, { MAX_VALUE_BYTES: '64', CACHE_TTL_MS: '600000' }, OVERSIZED_COMMANDS, {
        async before() {
          // MONITOR lines arrive a little after their commands: the first pass's are let in before counting.
          await redis.client.ping();
          await new Promise((resolve) => setTimeout(resolve, 20));
          lines.length = 0;
          calls = await commandCalls(redis.client, ...FORWARDED_ONLY, ...FORWARDED_ZSET);
        },
        async after(batch) {
          forwarded += (await commandCalls(redis.client, ...FORWARDED_ONLY, ...FORWARDED_ZSET)) - calls;
          await redis.client.ping();
          await new Promise((resolve) => setTimeout(resolve, 20));
          // Read whole again in the second pass: only absent keys (nothing to remember) and keys a GET named (a string read first).
          const allowed = new Set(keys.missing);
          for (const args of batch) if (args[0]!.toUpperCase() === 'GET') allowed.add(args[1]!);
          for (const key of lines) if (!allowed.has(unescapeMonitor(key))) unexpected.add(unescapeMonitor(key));
        },
      });
      t.ok(forwarded > 100, `the second passes forwarded ${forwarded} commands the typed script never sends`);
      t.same([...unexpected], [], 'no key was read whole by the typed script again in a second pass but absent ones and GETs');
    },
  );
/** Byte equality, but for TTL: the proxy counts a key's life from its fetch, so a second either way is the same answer. */
function same(args: string[], expected: Buffer, got: Buffer): boolean {
  if (expected.equals(got)) return true;
  if (args[0]!.toUpperCase() !== 'TTL') return false;
  const a = /^:(-?\d+)\r\n$/.exec(expected.toString('latin1'));
  const b = /^:(-?\d+)\r\n$/.exec(got.toString('latin1'));
  return a !== null && b !== null && Number(a[1]) > 0 && Math.abs(Number(a[1]) - Number(b[1])) <= 1;
}

function show(reply: Buffer): string {
  return JSON.stringify(reply.toString('latin1').slice(0, 120));
}

/** A reply's kind, for the count of what the generated commands met. */
function kindOf(reply: Buffer): string {
  const text = reply.toString('latin1');
  if (text.startsWith('-')) {
    for (const kind of ['WRONGTYPE', 'not an integer', 'syntax error', 'wrong number', 'not a float', 'not valid string range'])
      if (text.includes(kind)) return kind;
    return text;
  }
  if (text === '$-1\r\n' || text === '*-1\r\n' || text === '_\r\n') return 'nil';
  if (text === '*0\r\n') return 'empty array';
  return { '*': 'array', ':': 'integer', $: 'bulk', '+': 'status', '%': 'map', '~': 'set', ',': 'double' }[text[0]!] ?? text;
}

/** A MONITOR argument as ioredis hands it (still escaped as Redis's `sdscatrepr` wrote it) back to its bytes, as a binary string. */
function unescapeMonitor(s: string): string {
  return s.replace(/\\(x[0-9a-f]{2}|.)/g, (_m, e: string) =>
    e.length === 3
      ? String.fromCharCode(Number.parseInt(e.slice(1), 16))
      : (({ n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b' } as Record<string, string>)[e] ?? e),
  );
}
