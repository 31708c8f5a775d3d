/** Benchmark data: keys loaded into Redis, and request traces written as path files for wrk. */
import { randomFillSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { seededRandom } from '../../test/helpers/random.js';
import type { PathStyle } from './targets.js';

/** The name of key `i` in a data set of `valueBytes`-byte values. */
export function keyName(valueBytes: number, i: number): string {
  return `b:${valueBytes}:${i}`;
}

/** SETs keys 0…count-1 with random values of `valueBytes` bytes, pipelined. */
export async function loadKeys(redis: Redis, count: number, valueBytes: number): Promise<void> {
  const chunk = Math.max(1, Math.min(1000, Math.floor((4 << 20) / (valueBytes + 32))));
  for (let start = 0; start < count; start += chunk) {
    const args: (string | Buffer)[] = [];
    for (let i = start; i < Math.min(count, start + chunk); i++)
      args.push(keyName(valueBytes, i), randomFillSync(Buffer.allocUnsafe(valueBytes)));
    await redis.mset(...args);
  }
}

/** A trace that visits keys 0…count-1 in order (wrk cycles through it). */
export function cycleTrace(count: number): Uint32Array {
  return Uint32Array.from({ length: count }, (_, i) => i);
}

/**
 * `length` key indexes drawn from a Zipf distribution over `count` keys
 * with exponent `s` (rank 0 most popular), by inverse CDF. Seeded, so every
 * target and every run sees the same trace.
 */
export function zipfTrace(count: number, s: number, length: number, seed = 42): Uint32Array {
  const cdf = new Float64Array(count);
  let sum = 0;
  for (let k = 0; k < count; k++) cdf[k] = sum += 1 / (k + 1) ** s;
  const random = seededRandom(seed);
  const out = new Uint32Array(length);
  for (let i = 0; i < length; i++) {
    const u = random() * sum;
    let lo = 0;
    let hi = count - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    out[i] = lo;
  }
  return out;
}

/**
 * The zipf trace with scans: after every `every` requests of `zipf`, a
 * one-off scan of `scan` cold keys (indexes from `firstCold` on, each read
 * once in the whole trace).
 */
export function scanTrace(zipf: Uint32Array, every: number, scan: number, firstCold: number): Uint32Array {
  const blocks = Math.ceil(zipf.length / every);
  const out = new Uint32Array(zipf.length + blocks * scan);
  let at = 0;
  let cold = firstCold;
  for (let b = 0; b < blocks; b++) {
    const part = zipf.subarray(b * every, (b + 1) * every);
    out.set(part, at);
    at += part.length;
    for (let i = 0; i < scan; i++) out[at++] = cold++;
  }
  return out;
}

/** Writes the trace as request paths in `style`; returns the file's path. */
export function writePaths(dir: string, name: string, trace: Uint32Array, valueBytes: number, style: PathStyle): string {
  const lines: string[] = new Array(trace.length);
  for (let i = 0; i < trace.length; i++) {
    const key = keyName(valueBytes, trace[i]!);
    lines[i] = style === 'plain' ? `/${key}` : `/GET/${key}.txt`;
  }
  const file = join(dir, `${name}.${style}.paths`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}
