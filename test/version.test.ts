/** The reported version comes from package.json, found above the running code wherever it was copied. */
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VERSION, versionAbove } from '../src/version.js';
import { ROOT } from './helpers/processes.js';

t.test("VERSION is package.json's", async (t) => {
  t.equal(VERSION, (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
});

t.test('the nearest package.json above wins; none, or none with a version, is "unknown"', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shardcache-version-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const deep = join(dir, 'app', 'dist', 'src');
  mkdirSync(deep, { recursive: true });
  // tmpdir() has no package.json above it on a normal machine: the walk reaches the root.
  t.equal(versionAbove(deep), 'unknown', 'none up to the root');
  writeFileSync(join(dir, 'app', 'package.json'), JSON.stringify({ name: 'x' }));
  t.equal(versionAbove(deep), 'unknown', 'one without a version');
  writeFileSync(join(dir, 'app', 'package.json'), JSON.stringify({ version: '1.2.3' }));
  t.equal(versionAbove(deep), '1.2.3');
});
