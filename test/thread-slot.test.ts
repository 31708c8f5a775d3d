/** What worker threads inherit of the process's Node flags (src/control/thread-slot.ts). */
import t from 'tap';
import { threadExecArgv } from '../src/control/thread-slot.js';

t.test('worker threads keep V8 and Node flags but not preloads', async (t) => {
  // What clinic flame starts the proxy with (0x's preloads), plus --cpu-prof.
  const clinic = ['--prof', '--logfile=/tmp/x/%p-v8.log', '--print-opt-source', '-r', '/n/0x/lib/preload/no-cluster', '-r', '/n/0x/lib/preload/detect-port.js', '--cpu-prof', '--cpu-prof-dir=/tmp/cpu'];
  t.same(threadExecArgv(clinic), ['--prof', '--logfile=/tmp/x/%p-v8.log', '--print-opt-source', '--cpu-prof', '--cpu-prof-dir=/tmp/cpu']);
  t.same(threadExecArgv(['--require', 'a.js', '--require=b.js', '--import', 'c.mjs', '--import=d.mjs', '--loader=e.mjs', '--experimental-loader', 'f.mjs', '--max-old-space-size=512']), ['--max-old-space-size=512']);
  t.same(threadExecArgv([]), []);
});
