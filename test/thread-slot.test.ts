/** What worker threads inherit of the process's Node flags (src/control/thread-slot.ts). */
import t from 'tap';
import { threadExecArgv, withoutPreloads } from '../src/control/thread-slot.js';

// What clinic flame starts the proxy with (0x's preloads), plus --cpu-prof.
const CLINIC = [
  '--prof',
  '--logfile=/tmp/x/%p-v8.log',
  '--print-opt-source',
  '-r',
  '/n/0x/lib/preload/no-cluster',
  '-r',
  '/n/0x/lib/preload/detect-port.js',
  '--cpu-prof',
  '--cpu-prof-dir=/tmp/cpu',
];

t.test('preloads are dropped, every other flag kept', async (t) => {
  t.same(withoutPreloads(CLINIC), ['--prof', '--logfile=/tmp/x/%p-v8.log', '--print-opt-source', '--cpu-prof', '--cpu-prof-dir=/tmp/cpu']);
  t.same(
    withoutPreloads([
      '--require',
      'a.js',
      '--require=b.js',
      '--import',
      'c.mjs',
      '--import=d.mjs',
      '--loader=e.mjs',
      '--experimental-loader',
      'f.mjs',
      '--enable-source-maps',
    ]),
    ['--enable-source-maps'],
  );
});

t.test('what a Worker is given: nothing to change → inherit; else the flags a Worker accepts, as a real Worker says', async (t) => {
  t.equal(threadExecArgv([]), undefined);
  t.equal(threadExecArgv(['--cpu-prof', '--enable-source-maps']), undefined, 'no preload: Node’s own inheritance');
  // --prof, --logfile and --print-opt-source are V8 flags: process-wide already, and refused in a Worker's execArgv.
  t.same(threadExecArgv(CLINIC), ['--cpu-prof', '--cpu-prof-dir=/tmp/cpu']);
});
