/**
 * ACCESS_FILE's cost on the hit path (issue 21): shardcache with a
 * credential checked on every request (a Bearer token hashed and compared,
 * the key's prefix checked) against the same shardcache without one, on the
 * same data, interleaved rounds.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cycleTrace, keyName } from './data.js';
import type { Bar } from './results.js';
import type { Scenario } from './scenario.js';
import { shardcache, type Target } from './targets.js';

const TOKEN = 'bench-token-0123456789abcdef0123456789abcdef';
const WITH_ACCESS = 'shardcache ACCESS_FILE (Bearer per request)';

/** The access file: a few credentials, the last one the benchmark's (a token is compared with every digest). */
function accessJson(valueBytes: number): string {
  const credential = (name: string, token: string, keys: string[]): object => ({
    name,
    token_sha256: createHash('sha256').update(token).digest('hex'),
    keys,
  });
  return JSON.stringify({
    credentials: [
      credential('a', 'token-a', ['a:']),
      credential('b', 'token-b', ['b:', 'c:']),
      credential('ops', 'token-ops', ['']),
      credential('bench', TOKEN, ['x:', keyName(valueBytes, 0).slice(0, -1)]),
    ],
  });
}

/** shardcache with ACCESS_FILE; every request sends the `bench` credential's token. */
const withAccess: Target = {
  name: WITH_ACCESS,
  start: async (env) => {
    const dir = mkdtempSync(join(tmpdir(), 'shardcache-bench-access-'));
    const file = join(dir, 'access.json');
    writeFileSync(file, accessJson(env.valueBytes));
    const running = await shardcache(undefined, { ACCESS_FILE: file }, WITH_ACCESS)
      .start(env)
      .catch((err: Error) => {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      });
    return {
      ...running,
      headers: { Authorization: `Bearer ${TOKEN}` },
      stop: async () => {
        await running.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** The scenario: the hit path of `hit-100`, with and without ACCESS_FILE. */
export function accessScenarios(): Scenario[] {
  return [
    {
      id: 'access',
      title: 'Hit path with ACCESS_FILE (a token check per request) against without (10k keys, 100 B)',
      valueBytes: 100,
      keys: 10000,
      trace: () => cycleTrace(10000),
      capacity: 100000,
      targets: [shardcache(), withAccess],
      baseline: 'shardcache',
    },
  ];
}

/** The bar issue 21 sets. */
export const ACCESS_BARS: Bar[] = [
  { label: 'hit path with ACCESS_FILE ≥ 0.95× without', scenario: 'access', target: WITH_ACCESS, against: 'shardcache', min: 0.95 },
];
