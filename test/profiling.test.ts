/** Where tick logs go under --prof (src/control/profiling.ts); the whole path is in profile.test.ts. */
import t from 'tap';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keepMainTickLog, moveThreadLogs, moveThreadTickLogs, tickLogDir } from '../src/control/profiling.js';

t.test('the tick log folder: none without --prof, the --logfile folder, else the working directory', async (t) => {
  t.equal(tickLogDir(['--cpu-prof'], '/w'), undefined);
  t.equal(tickLogDir(['--prof'], '/w'), '/w');
  t.equal(tickLogDir(['--prof', '--logfile=out/%p-v8.log'], '/w'), '/w/out');
  t.equal(tickLogDir(['--prof', '--logfile=/a/%p-v8.log', '--logfile=/b/x.log'], '/w'), '/b', 'the last --logfile wins, as in V8');
});

t.test("the threads' logs move aside; the main thread's, other processes' and other files stay", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shardcache-ticks-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const files = [
    'isolate-0x1000-42-42-v8.log',
    'isolate-0x7f00-42-42-v8.log',
    'isolate-0x7f01-42-v8.log',
    'isolate-0x7f02-43-43-v8.log',
    'notes.txt',
  ];
  for (const f of files) writeFileSync(join(dir, f), 'x');
  t.equal(moveThreadLogs(dir, 42, new Set(['isolate-0x1000-42-42-v8.log'])), 2);
  t.same(readdirSync(dir).sort(), ['isolate-0x1000-42-42-v8.log', 'isolate-0x7f02-43-43-v8.log', 'isolate-42-threads', 'notes.txt']);
  t.same(readdirSync(join(dir, 'isolate-42-threads')).sort(), ['isolate-0x7f00-42-42-v8.log', 'isolate-0x7f01-42-v8.log']);
  t.equal(moveThreadLogs(dir, 42, new Set(['isolate-0x1000-42-42-v8.log'])), 0, 'nothing left to move');
});

t.test('a log gone before its move is passed over; another failure is not', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shardcache-ticks-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'isolate-0x7f00-42-42-v8.log'), 'x');
  t.equal(
    moveThreadLogs(dir, 42, new Set(), ['isolate-0x7f00-42-42-v8.log', 'isolate-0x7f01-42-42-v8.log']),
    1,
    'the one still there moved',
  );
  writeFileSync(join(dir, 'isolate-0x7f02-42-42-v8.log'), 'x');
  mkdirSync(join(dir, 'isolate-42-threads', 'isolate-0x7f02-42-42-v8.log', 'in-the-way'), { recursive: true });
  t.throws(() => moveThreadLogs(dir, 42, new Set()), { code: /^(EISDIR|ENOTEMPTY|EEXIST)$/ }, 'a rename that fails otherwise says so');
  t.equal(moveThreadLogs(join(dir, 'gone'), 42, new Set()), 0, 'a folder that is gone holds no log to move');
});

t.test('under --prof, a thread that is up has its log moved at once; the main thread keeps its own', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shardcache-ticks-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  moveThreadTickLogs();
  writeFileSync(join(dir, 'isolate-0x1000-7-7-v8.log'), 'main');
  keepMainTickLog(['--prof'], dir, 7);
  writeFileSync(join(dir, 'isolate-0x2000-7-7-v8.log'), 'a worker');
  moveThreadTickLogs();
  t.same(readdirSync(dir).sort(), ['isolate-0x1000-7-7-v8.log', 'isolate-7-threads'], 'the worker’s log left as soon as it was up');
  writeFileSync(join(dir, 'isolate-0x3000-7-7-v8.log'), 'its replacement');
  moveThreadTickLogs();
  t.same(
    readdirSync(join(dir, 'isolate-7-threads')).sort(),
    ['isolate-0x2000-7-7-v8.log', 'isolate-0x3000-7-7-v8.log'],
    'and so did its replacement’s',
  );
  // The exit handler runs after the teardown removed the folder: it finds nothing and throws nothing.
});
