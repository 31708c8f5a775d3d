/**
 * What `npm run bench` measures: the load scenarios (data set, trace,
 * targets, baseline) and the bars the issues set, checked against every
 * run. `--quick` keeps the hit path, the thread sweep, the miss path and
 * RESP; `--only=a,b` picks scenarios by id.
 */
import type { Bar } from './results.js';
import { cycleTrace, zipfTrace } from './data.js';
import type { Scenario } from './scenario.js';
import { bare, nodeLru, perTask, shardcache, threads, varnish, webdis } from './targets.js';
import { nginxLru, nginxLru2, nginxRedis } from './nginx.js';
import { ACCESS_BARS, accessScenarios } from './access-scenarios.js';
import { CLUSTER_BARS, clusterScenarios } from './cluster.js';
import { EXPIRY_BARS, expiryScenarios } from './expiry-scenarios.js';
import { POLICY_BARS, policyScenarios, tinyLfu } from './policy-scenarios.js';

/** The scenarios of a run. */
export function scenarios(quick: boolean, only: readonly string[] | undefined): Scenario[] {
  const hitTargets = quick
    ? [bare, shardcache(), perTask(), nginxLru]
    : [bare, shardcache(), perTask(), nodeLru, varnish, nginxLru, nginxLru2];
  // On 2 cores the throughput cannot rise with threads; the CPU per request by thread still says what each costs.
  const sweep = quick ? [threads(1, 1), threads(4, 2)] : [threads(1, 1), threads(2, 1), threads(4, 2), threads(8, 2)];
  const all: Scenario[] = [
    {
      id: 'hit-100',
      title: 'Hit path: 10k keys, 100 B values, all cached',
      valueBytes: 100,
      keys: 10000,
      trace: () => cycleTrace(10000),
      capacity: 100000,
      targets: hitTargets,
      baseline: bare.name,
      compare: [varnish.name, nginxLru.name],
    },
    {
      id: 'sweep',
      title: 'ACCEPTORS × SHARDS sweep, hit path (10k keys, 100 B)',
      valueBytes: 100,
      keys: 10000,
      trace: () => cycleTrace(10000),
      capacity: 100000,
      targets: [bare, ...sweep],
      baseline: bare.name,
    },
    {
      id: 'miss',
      title: 'Miss path: every request goes to Redis (shardcache with CACHE_CAPACITY=0)',
      valueBytes: 100,
      keys: 10000,
      trace: () => cycleTrace(10000),
      capacity: 0,
      // INVALIDATION=ttl too: with tracking, Redis records every key a GET reads.
      // The bare ceiling (no Redis at all) shows what node:http alone reaches against webdis.
      targets: [
        webdis,
        bare,
        shardcache(undefined, {}, 'shardcache (no cache)'),
        shardcache(undefined, { INVALIDATION: 'ttl' }, 'shardcache (no cache, INVALIDATION=ttl)'),
        nginxRedis,
      ],
      baseline: webdis.name,
      compare: [nginxRedis.name],
      hitRatio: true,
    },
  ];
  if (!quick) {
    all.push(
      {
        id: 'hit-4k',
        title: 'Hit path: 4 KiB values',
        valueBytes: 4096,
        keys: 10000,
        trace: () => cycleTrace(10000),
        capacity: 100000,
        targets: [bare, shardcache(), varnish],
        baseline: bare.name,
      },
      {
        id: 'hit-256k',
        title: 'Hit path: 256 KiB values (200 keys)',
        valueBytes: 262144,
        keys: 200,
        trace: () => cycleTrace(200),
        capacity: 100000,
        targets: [bare, shardcache(), varnish],
        baseline: bare.name,
      },
      {
        id: 'zipf',
        title: 'Zipfian mix: 1M keys, exponent 0.99, CACHE_CAPACITY 100k, 100 B',
        valueBytes: 100,
        keys: 1_000_000,
        trace: () => zipfTrace(1_000_000, 0.99, 500_000),
        capacity: 100000,
        targets: [varnish, shardcache(), nodeLru, tinyLfu],
        baseline: varnish.name,
        hitRatio: true,
      },
      ...policyScenarios(),
      {
        id: 'paced',
        title: 'Latency at half of the measured peak (hit path, 100 B)',
        valueBytes: 100,
        keys: 10000,
        trace: () => cycleTrace(10000),
        capacity: 100000,
        targets: [bare, shardcache()],
        baseline: bare.name,
        paced: { of: 'hit-100', target: 'shardcache', fraction: 0.5 },
      },
      ...clusterScenarios(),
      ...accessScenarios(),
    );
  }
  // Last: their keys get a TTL, which the other scenarios' must not have.
  all.push(...expiryScenarios());
  return all.filter((s) => only === undefined || only.includes(s.id));
}

const A4 = threads(4, 2).name;

/** The bars set by the issues, checked against every run. */
export const BARS: Bar[] = [
  {
    label: 'hit path ≥ 0.9× the bare node:http ceiling (default threads)',
    scenario: 'hit-100',
    target: 'shardcache',
    against: bare.name,
    min: 0.9,
  },
  { label: 'hit path ≥ 1.0× Varnish', scenario: 'hit-100', target: 'shardcache', against: varnish.name, min: 1.0 },
  { label: 'busiest thread ≤ 30% of a hit request’s CPU, ACCEPTORS=4', scenario: 'sweep', target: A4, cpu: 'busiest-share', max: 0.3 },
  {
    label: 'CPU per hit request ≤ 1.15× bare node:http’s (default threads)',
    scenario: 'hit-100',
    target: 'shardcache',
    against: bare.name,
    cpu: 'total',
    max: 1.15,
  },
  {
    label: 'CPU per hit request ≤ Varnish’s (default threads)',
    scenario: 'hit-100',
    target: 'shardcache',
    against: varnish.name,
    cpu: 'total',
    max: 1.0,
  },
  // Issue 23's strongest peer: there so that the table says where shardcache loses (the README says why).
  { label: 'hit path ≥ 1.0× nginx + Lua lrucache (1 worker)', scenario: 'hit-100', target: 'shardcache', against: nginxLru.name, min: 1.0 },
  {
    label: 'CPU per hit request ≤ nginx + Lua’s (1 worker)',
    scenario: 'hit-100',
    target: 'shardcache',
    against: nginxLru.name,
    cpu: 'total',
    max: 1.0,
  },
  {
    label: 'miss path ≥ 1.0× nginx + Lua with no cache',
    scenario: 'miss',
    target: 'shardcache (no cache)',
    against: nginxRedis.name,
    min: 1.0,
  },
  { label: 'hit path, 4 KiB values ≥ 0.95× bare node:http', scenario: 'hit-4k', target: 'shardcache', against: bare.name, min: 0.95 },
  { label: 'hit path, 256 KiB values ≥ 0.85× bare node:http', scenario: 'hit-256k', target: 'shardcache', against: bare.name, min: 0.85 },
  { label: 'miss path ≥ 0.8× webdis', scenario: 'miss', target: 'shardcache (no cache)', against: webdis.name, min: 0.8 },
  { label: 'zipfian mix ≥ 1.0× Varnish', scenario: 'zipf', target: 'shardcache', against: varnish.name, min: 1.0 },
  {
    label: 'p99 at half of the peak ≤ 1.5× bare node:http’s at the same rate',
    scenario: 'paced',
    target: 'shardcache',
    against: bare.name,
    p99Ratio: true,
    max: 1.5,
  },
  {
    label: 'staleness p99 ≤ 10 ms at 10k SET/s (INVALIDATION=tracking)',
    scenario: 'staleness',
    target: 'shardcache',
    staleness: 'p99',
    p99MaxMs: 10,
  },
  {
    label: 'tracking costs ≤ 5% of hit-path throughput (× INVALIDATION=ttl)',
    scenario: 'staleness',
    target: 'shardcache',
    staleness: 'cost',
    min: 0.95,
  },
  {
    label: 'RESP GET, pipeline 1: ≥ 0.9× the Node RESP ceiling',
    scenario: 'resp',
    target: 'shardcache',
    resp: { test: 'GET', pipeline: 1, against: 'ceiling' },
    min: 0.9,
  },
  { label: 'RESP GET, pipeline 1: ≥ 1.0× Redis', scenario: 'resp', target: 'shardcache', resp: { test: 'GET', pipeline: 1 }, min: 1.0 },
  { label: 'RESP MGET, pipeline 1: ≥ 1.0× Redis', scenario: 'resp', target: 'shardcache', resp: { test: 'MGET', pipeline: 1 }, min: 1.0 },
  { label: 'RESP GET, pipeline 16: ≥ 0.5× Redis', scenario: 'resp', target: 'shardcache', resp: { test: 'GET', pipeline: 16 }, min: 0.5 },
  { label: 'RESP MGET, pipeline 16: ≥ 0.5× Redis', scenario: 'resp', target: 'shardcache', resp: { test: 'MGET', pipeline: 16 }, min: 0.5 },
  ...CLUSTER_BARS,
  ...ACCESS_BARS,
  ...POLICY_BARS,
  ...EXPIRY_BARS,
];
