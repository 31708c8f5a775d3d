/**
 * The import rules (`npm run lint:deps`, run by .ci/run): imports point down.
 *
 *   main.ts, workers/            the entries: may import anything
 *   acceptor/  shard/  control/  the parts: each its own folder and below, never one another
 *   src/*.ts (config, log, …)    settings and plumbing every part uses: below the parts
 *   hop/  cache/  routing/  metrics/  access/   the bottom: never import a part or an entry
 *   redact.ts, hop/vocabulary.ts, metrics/labels.ts   leaves: import nothing of ours
 *   hop/tasks.ts                 the worker task types: imports of ours by type only
 *
 * and nothing anywhere (benchmarks and tests included) imports in a cycle.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'A cycle makes load order matter and two files one idea: break it by moving what both need below both.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'parts-import-only-downward',
      severity: 'error',
      comment: 'acceptor/, shard/ and control/ import their own folder and the bottom (hop/, cache/, routing/, metrics/), never one another.',
      from: { path: '^src/(acceptor|shard|control)/' },
      to: { path: '^src/(acceptor|shard|control)/', pathNot: '^src/$1/' },
    },
    {
      name: 'no-entry-imports',
      severity: 'error',
      comment: 'main.ts and workers/ are entries: nothing in src/ imports them (the supervisor names a worker by URL, not by import).',
      from: { path: '^src/', pathNot: '^src/main\\.ts$' },
      to: { path: '^(src/main\\.ts|workers/)' },
    },
    {
      name: 'bottom-imports-nothing-above',
      severity: 'error',
      comment: 'hop/, cache/, routing/, metrics/ and access/, and the shared files of src/ (config.ts, log.ts, …), are below every part.',
      from: { path: '^src/(hop/|cache/|routing/|metrics/|access/|[^/]+\\.ts$)', pathNot: '^src/main\\.ts$' },
      to: { path: '^src/(acceptor|shard|control)/' },
    },
    {
      name: 'leaves-import-nothing-of-ours',
      severity: 'error',
      comment: 'The shared vocabulary and the one redaction import nothing of ours, so that any thread can load them alone.',
      from: { path: '^src/(redact|hop/vocabulary|metrics/labels)\\.ts$' },
      to: { path: '^(src|workers|benchmarks|test)/' },
    },
    {
      name: 'task-types-load-nothing-of-ours',
      severity: 'error',
      comment:
        'The worker task types name settings and shared memory by type only: at run time hop/tasks.ts loads nothing of ours, so a worker and the supervisor can both load it alone.',
      from: { path: '^src/hop/tasks\\.ts$' },
      to: { path: '^(src|workers|benchmarks|test)/', dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
