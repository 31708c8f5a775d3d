/**
 * The differential test of the typed reads: the same generated command to a
 * real Redis and to the built proxy in front of it, the replies compared
 * byte for byte. Thousands of commands over data of every type (empty and
 * binary keys and values, negative and out-of-range indexes, missing
 * fields, wrong types, arity and syntax errors), each batch twice: first
 * through misses, then from the cache.
 */
import t from 'tap';
import { startProxy, startRedis } from './helpers/processes.js';
import { command, RespPipe } from './helpers/resp.js';
import { typedCommands, writeTypedData } from './helpers/typed-data.js';

const COMMANDS = 4000;
const BATCH = 200;

const redis = await startRedis(t);
const keys = await writeTypedData(redis.client, 22);

for (const protocol of [2, 3])
  t.test(`RESP${protocol}: every generated read answers as Redis does, byte for byte, on a miss and on a hit`, async (t) => {
    // A proxy each, so that each protocol starts with an empty cache.
    const proxy = await startProxy(t, { REDIS_URL: redis.url, RESP_PORT: '0', SHARDS: '2' });
    const direct = await RespPipe.open(redis.port);
    const through = await RespPipe.open(proxy.respPort!);
    t.teardown(() => {
      direct.close();
      through.close();
    });
    // HELLO's own reply names the server: not compared.
    for (const pipe of [direct, through]) await pipe.send([command('HELLO', String(protocol))]);
    const commands = typedCommands(keys, COMMANDS, Number(process.env.TYPED_SEED ?? 2022));
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
      // Twice: the first pass fetches, the second answers from the cache.
      for (const pass of ['miss', 'hit']) {
        const got = await through.send(wire);
        for (let i = 0; i < batch.length; i++) {
          compared++;
          if (same(batch[i]!, expected[i]!, got[i]!)) continue;
          mismatches.push(`${pass} ${JSON.stringify(batch[i])} redis ${show(expected[i]!)} proxy ${show(got[i]!)}`);
        }
      }
    }
    t.equal(compared, 2 * COMMANDS, 'every command was compared twice');
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
  });

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
