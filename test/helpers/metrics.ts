/** Reads the proxy's /metrics (Prometheus text) into numbers for assertions. */
import { request, type Dispatcher } from 'undici';
import { sleep } from './time.js';

/** Every sample, keyed by `name{labels}` exactly as exposed (e.g. `shardcache_cache_hits_total{shard="0"}`). */
export type Samples = Map<string, number>;

/** `dispatcher`: an HTTPS agent trusting the proxy's CA, when the admin port speaks TLS. */
export async function scrape(admin: string, dispatcher?: Dispatcher): Promise<Samples> {
  const res = await request(`${admin}/metrics`, dispatcher === undefined ? {} : { dispatcher });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}: ${text}`);
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** The sum of every sample of `name` whose labels include all of `labels`. */
export function total(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [key, value] of samples) {
    const brace = key.indexOf('{');
    if ((brace < 0 ? key : key.slice(0, brace)) !== name) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) sum += value;
  }
  return sum;
}

/** Every sample of `name`, as `{labels} → value`, for comparing whole label sets. */
export function samplesOf(samples: Samples, name: string): Record<string, number> {
  return Object.fromEntries(
    [...samples].filter(([key]) => key.startsWith(`${name}{`)).map(([key, value]) => [key.slice(name.length), value]),
  );
}

/**
 * Scrapes until the sum of `name` over `labels` is `value`, or `ms` passed;
 * resolves with the last sum seen, for the caller to assert.
 */
export async function waitForTotal(admin: string, name: string, labels: Record<string, string>, value: number, ms = 5000): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    const seen = total(await scrape(admin), name, labels);
    if (seen === value || Date.now() > deadline) return seen;
    await sleep(20);
  }
}
