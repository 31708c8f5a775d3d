/** The default thread counts and the reusePort check (src/threads.ts). */
import t from 'tap';
import { loadConfig } from '../src/config.js';
import { defaultThreads, reusePortProblem, SHARD_SHARE } from '../src/threads.js';

t.test('defaults: at least one of each, never more threads than cores, shards in proportion to their share', async (t) => {
  for (let cores = 1; cores <= 64; cores++) {
    const { acceptors, shards } = defaultThreads(cores, true);
    t.ok(acceptors >= 1 && shards >= 1, `${cores} cores: ${acceptors} acceptors, ${shards} shards`);
    if (cores >= 2) t.equal(acceptors + shards, cores, `${cores} cores: one thread per core`);
    t.equal(shards, Math.max(1, Math.round(cores * SHARD_SHARE)));
  }
  t.same(defaultThreads(2, true), { acceptors: 1, shards: 1 }, 'a 2-core machine runs as before: one acceptor, one shard');
  t.equal(defaultThreads(16, false).acceptors, 1, 'without reusePort, one acceptor');
});

t.test('reusePort needs Node 22.12 and a kernel with SO_REUSEPORT', async (t) => {
  t.match(reusePortProblem('v20.20.2', 'linux'), /Node 22\.12 or later.*v20\.20\.2/);
  t.match(reusePortProblem('v22.11.0', 'linux'), /Node 22\.12/);
  t.equal(reusePortProblem('v22.12.0', 'linux'), undefined);
  t.equal(reusePortProblem('v24.21.0', 'linux'), undefined);
  t.match(reusePortProblem('v24.21.0', 'win32'), /SO_REUSEPORT.*win32/);
  t.equal(reusePortProblem(process.version, process.platform), undefined, 'this machine can');
});

t.test('ACCEPTORS > 1 on a Node without reusePort is a start-up error naming the setting and the Node', async (t) => {
  const real = Object.getOwnPropertyDescriptor(process, 'version')!;
  Object.defineProperty(process, 'version', { value: 'v20.20.2' });
  t.teardown(() => Object.defineProperty(process, 'version', real));
  t.throws(() => loadConfig({ ACCEPTORS: '2' }, []), {
    name: 'ConfigError',
    message: /^ACCEPTORS=2: several acceptors needs Node 22\.12 or later for reusePort; this is Node v20\.20\.2/,
  });
  t.throws(() => loadConfig({}, ['--acceptors', '2']), { message: /^--acceptors=2/ });
  t.equal((loadConfig({ ACCEPTORS: '1' }, []) as { acceptors: number }).acceptors, 1, 'one acceptor is fine');
  t.equal((loadConfig({}, []) as { acceptors: number }).acceptors, 1, 'and is the default there');
});
