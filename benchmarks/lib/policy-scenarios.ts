/**
 * The cache policy scenarios and bars (issues 13 and 14): the eviction
 * policies on the zipf trace and on zipf with scans, each measured hit ratio
 * beside its policy replayed offline over the same requests (`replay.ts`),
 * and the hit path by EVICTION and early refresh.
 */
import type { Bar } from './results.js';
import { cycleTrace, scanTrace, zipfTrace } from './data.js';
import type { Scenario } from './scenario.js';
import { nodeLru, shardcache } from './targets.js';

/** shardcache with EVICTION=tinylfu, beside the zipf scenario's other targets. */
export const tinyLfu = shardcache(undefined, { EVICTION: 'tinylfu' }, 'shardcache EVICTION=tinylfu');

/** The scenarios, after the zipf one (which gains `tinyLfu` as a target). */
export function policyScenarios(): Scenario[] {
  return [
    // 2.1M requests: longer than a target replays in a run (about 1.7M), so a scan's cold keys are never read twice.
    {
      id: 'scan',
      title: 'Zipfian mix with scans: after every 100k requests, 200k cold keys read once',
      valueBytes: 100,
      keys: 2_400_000,
      trace: () => scanTrace(zipfTrace(1_000_000, 0.99, 700_000), 100_000, 200_000, 1_000_000),
      capacity: 100000,
      targets: [shardcache(), tinyLfu],
      baseline: 'shardcache',
      hitRatio: true,
      oneOffFrom: 1_000_000,
    },
    // And what early refresh (on by default) costs a hit far from expiry: one comparison.
    {
      id: 'policy-hit',
      title: 'Hit path by EVICTION and early refresh (10k keys, 100 B)',
      valueBytes: 100,
      keys: 10000,
      trace: () => cycleTrace(10000),
      capacity: 100000,
      targets: [shardcache(), tinyLfu, shardcache(undefined, { EARLY_REFRESH_BETA: '0' }, 'shardcache EARLY_REFRESH_BETA=0')],
      baseline: 'shardcache',
    },
  ];
}

export const POLICY_BARS: Bar[] = [
  {
    label: 'zipf hit ratio ≥ an exact LRU simulated on the same requests (within 0.5 points)',
    scenario: 'zipf',
    target: 'shardcache',
    hitRatioOver: 'exact LRU',
    min: -0.5,
  },
  {
    label: 'zipf hit ratio ≥ the node:http + lru-cache server (within 0.5 points)',
    scenario: 'zipf',
    target: 'shardcache',
    hitRatioOver: nodeLru.name,
    min: -0.5,
  },
  {
    label: 'zipf hit ratio, EVICTION=tinylfu ≥ lru + 5 points',
    scenario: 'zipf',
    target: tinyLfu.name,
    hitRatioOver: 'shardcache',
    min: 5,
  },
  // Two requests in three are one-off scan keys, so over all requests no policy passes 33%.
  {
    label: 'zipf with scans, EVICTION=tinylfu ≥ lru + 15 points (recurring requests)',
    scenario: 'scan',
    target: tinyLfu.name,
    hitRatioOver: 'shardcache',
    hitRatioOn: 'recurring',
    min: 15,
  },
  { label: 'hit path, EVICTION=tinylfu ≥ 0.95× lru', scenario: 'policy-hit', target: tinyLfu.name, against: 'shardcache', min: 0.95 },
];
