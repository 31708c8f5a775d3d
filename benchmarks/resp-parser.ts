/**
 * Which parser should read client commands on the RESP port: ours
 * (`src/acceptor/resp/parser.ts`), redis-parser 3 (what ioredis 4 and 5 built on), or
 * ioredis 6's own decoder? The two others parse *replies*; a client command
 * is a reply-shaped array of bulk strings, so they can read it, minus inline
 * commands and limits. Each parser reads the same pipelined stream, cut
 * into 64 KiB chunks as a socket delivers it, and every command it yields is
 * counted and its key checked.
 *
 * Single-threaded and CPU-bound: run it alone, under the CPU lock:
 *   npx tsc -b && flock /tmp/shardcache-cpu.lock node dist/benchmarks/resp-parser.js
 */
import { createRequire } from 'node:module';
import { CommandParser, Parse } from '../src/acceptor/resp/parser.js';
import { RESP_LIMITS } from '../src/acceptor/resp/server.js';

const require = createRequire(import.meta.url);

interface ReplyParser {
  execute(chunk: Buffer): void;
}
type ReplyParserClass = new (options: {
  returnReply(reply: unknown): void;
  returnError(err: Error): void;
  returnBuffers: boolean;
}) => ReplyParser;
interface Decoder {
  write(chunk: Buffer): void;
}
type DecoderClass = new (options: {
  onReply(reply: unknown): void;
  onErrorReply(err: Error): void;
  onPush(push: unknown[]): void;
  getTypeMapping(): object;
}) => Decoder;

const RedisParser = require('redis-parser') as ReplyParserClass;
const { Decoder: IoredisDecoder, RESP_TYPES } = require('ioredis/built/resp/decoder.js') as {
  Decoder: DecoderClass;
  RESP_TYPES: Record<string, number>;
};

/** `count` commands as redis-benchmark sends them (`key:%012d` keys), in 64 KiB chunks. */
function stream(count: number, keysPerCommand: number): Buffer[] {
  const name = keysPerCommand === 1 ? 'GET' : 'MGET';
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    let command = `*${keysPerCommand + 1}\r\n$${name.length}\r\n${name}\r\n`;
    for (let k = 0; k < keysPerCommand; k++) command += `$16\r\nkey:${String((i * 7 + k) % 1e6).padStart(12, '0')}\r\n`;
    parts.push(command);
  }
  const all = Buffer.from(parts.join(''), 'latin1');
  const chunks: Buffer[] = [];
  for (let at = 0; at < all.length; at += 65536) chunks.push(all.subarray(at, at + 65536));
  return chunks;
}

/** Parses `chunks` and returns how many commands came out and how many key bytes they held (a check that work was done). */
type Run = (chunks: Buffer[]) => [commands: number, keyBytes: number];

const candidates: [string, Run][] = [
  [
    'shardcache CommandParser (binary-safe latin1 strings, bounded)',
    (chunks) => {
      const parser = new CommandParser(RESP_LIMITS);
      let commands = 0;
      let keyBytes = 0;
      for (const chunk of chunks) {
        parser.feed(chunk);
        while (parser.next() === Parse.Command) {
          commands++;
          for (let i = 1; i < parser.argc; i++) keyBytes += parser.args[i]!.length;
        }
      }
      return [commands, keyBytes];
    },
  ],
  ...([false, true] as const).map((returnBuffers): [string, Run] => [
    returnBuffers
      ? 'redis-parser 3.0.0, returnBuffers + latin1 strings (binary-safe)'
      : 'redis-parser 3.0.0, utf8 strings (not binary-safe)',
    (chunks) => {
      let commands = 0;
      let keyBytes = 0;
      const parser = new RedisParser({
        returnBuffers,
        returnReply(reply) {
          const args = reply as (string | Buffer)[];
          commands++;
          for (let i = 1; i < args.length; i++)
            keyBytes += returnBuffers ? (args[i] as Buffer).latin1Slice(0, (args[i] as Buffer).length).length : (args[i] as string).length;
        },
        returnError(err) {
          throw err;
        },
      });
      for (const chunk of chunks) parser.execute(chunk);
      return [commands, keyBytes];
    },
  ]),
  [
    'ioredis 6 Decoder, Buffers + latin1 strings (binary-safe)',
    (chunks) => {
      let commands = 0;
      let keyBytes = 0;
      const mapping = { [RESP_TYPES.BLOB_STRING!]: Buffer };
      const decoder = new IoredisDecoder({
        getTypeMapping: () => mapping,
        onReply(reply) {
          const args = reply as Buffer[];
          commands++;
          for (let i = 1; i < args.length; i++) keyBytes += args[i]!.latin1Slice(0, args[i]!.length).length;
        },
        onErrorReply(err) {
          throw err;
        },
        onPush() {},
      });
      for (const chunk of chunks) decoder.write(chunk);
      return [commands, keyBytes];
    },
  ],
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

for (const [label, count, keys] of [
  ['GET key:%012d', 300_000, 1],
  ['MGET of 10 keys', 60_000, 10],
] as const) {
  const chunks = stream(count, keys);
  console.log(`\n${label}: ${count} commands, ${(chunks.reduce((n, c) => n + c.length, 0) / 2 ** 20).toFixed(1)} MiB in 64 KiB chunks`);
  for (const [name, run] of candidates) {
    const rates: number[] = [];
    for (let round = 0; round < 8; round++) {
      const started = process.hrtime.bigint();
      const [commands, keyBytes] = run(chunks);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (commands !== count || keyBytes !== count * keys * 16)
        throw new Error(`${name}: parsed ${commands} commands, ${keyBytes} key bytes`);
      if (round > 0) rates.push(count / seconds); // round 0 warms the JIT
    }
    console.log(
      `  ${name.padEnd(68)} ${(median(rates) / 1e6).toFixed(2)} M commands/s (median of 7; min ${(Math.min(...rates) / 1e6).toFixed(2)}, max ${(Math.max(...rates) / 1e6).toFixed(2)})`,
    );
  }
}

// What each keeps when a client announces 1 GiB and sends 64 MiB of it.
const announced = Buffer.from('*2\r\n$3\r\nGET\r\n$1073741824\r\n');
const filler = Buffer.alloc(65536, 'x');
console.log('\nA client announces a 1 GiB bulk string and sends 64 MiB of it:');
{
  const parser = new CommandParser(RESP_LIMITS);
  parser.feed(announced);
  const parsed = parser.next();
  console.log(
    `  shardcache CommandParser: ${parsed === Parse.Error ? `refused at the header ("${parser.error}"), holds ${parser.buffered} bytes` : 'accepted'}`,
  );
}
{
  const parser = new RedisParser({ returnBuffers: true, returnReply() {}, returnError() {} });
  const before = process.memoryUsage().arrayBuffers;
  parser.execute(announced);
  // Fresh chunks, as a socket delivers them: a parser that keeps them keeps the memory.
  for (let i = 0; i < 1024; i++) parser.execute(Buffer.from(filler));
  console.log(
    `  redis-parser 3.0.0: accepts and buffers; +${((process.memoryUsage().arrayBuffers - before) / 2 ** 20).toFixed(0)} MiB held`,
  );
}
