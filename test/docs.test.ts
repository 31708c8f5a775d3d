/**
 * The documentation cannot drift from the code: the configuration reference
 * lists exactly the settings `src/config.ts` defines, with their flags and
 * defaults; every relative link and anchor in the README and docs/ leads
 * somewhere; the README's first screen holds what a newcomer needs; and the
 * repository tracks nothing that a run leaves behind.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { flagOf, SETTINGS } from '../src/config.js';
import { ROOT } from './helpers/processes.js';

const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const DOCS = readdirSync(join(ROOT, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => `docs/${f}`);
const PAGES = ['README.md', 'benchmarks/README.md', ...DOCS];

t.test('configuration.md: one row per setting, with its flag and default', async (t) => {
  const rows = read('docs/configuration.md')
    .split('\n')
    .filter((l) => /^\| `[A-Z_]+` \|/.test(l))
    .map((l) => l.split(' | ').map((c) => c.replace(/^\| /, '').trim()));
  const documented = rows.map((r) => r[0]!.replace(/`/g, ''));
  t.same([...documented].sort(), SETTINGS.map((s) => s.env).sort(), 'the same settings, each once');
  t.equal(new Set(documented).size, documented.length, 'no setting twice');
  for (const row of rows) {
    const s = SETTINGS.find((x) => x.env === row[0]!.replace(/`/g, ''));
    if (s === undefined) continue;
    t.equal(row[1], `\`${flagOf(s.env)}\``, `${s.env}: flag`);
    const cell = row[2]!.replace(/`/g, '');
    const value = String(s.default());
    // A default computed at start-up (from the cores) is described in words, as the code's own help does.
    if (/\(default: /.test(s.help)) t.notOk(/^\d+$/.test(cell), `${s.env}: a computed default, described (${cell})`);
    else if (value === '') t.match(cell, /^\(.+\)$/, `${s.env}: no default value, said in parentheses`);
    else t.equal(cell.split(' ')[0], value, `${s.env}: default ${value}`);
    t.ok(row[3] && row[3].length > 10, `${s.env}: explained`);
  }
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const slug = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

function anchors(path: string): Set<string> {
  return new Set(
    read(path)
      .split('\n')
      .filter((l) => /^#{1,6} /.test(l))
      .map((l) => slug(l.replace(/^#+ /, ''))),
  );
}

t.test('every relative link and anchor in the README and docs/ leads somewhere', async (t) => {
  let checked = 0;
  for (const page of PAGES) {
    // Code spans and blocks hold examples, not links.
    const text = read(page)
      .replace(/```[\s\S]*?```/g, '')
      .replace(/`[^`\n]*`/g, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (/^[a-z]+:/.test(target)) continue;
      const [file, anchor] = target.split('#') as [string, string | undefined];
      const path = file === '' ? page : relative(ROOT, join(ROOT, dirname(page), file));
      t.ok(existsSync(join(ROOT, path)), `${page}: ${target} exists`);
      if (anchor !== undefined && existsSync(join(ROOT, path)))
        t.ok(anchors(path).has(anchor), `${page}: ${target} names a heading of ${path}`);
      checked++;
    }
  }
  t.ok(checked > 40, `${checked} links`);
});

t.test('README: the first screen, the documentation table, the benchmark markers', async (t) => {
  const readme = read('README.md');
  const first = readme.slice(0, readme.indexOf('\n## '));
  t.ok(first.split('\n').length <= 30, `the part before the first section fits on a screen (${first.split('\n').length} lines)`);
  t.match(first, /```sh\nnpm ci && npm start +#[^\n]*\nnpm test +#[^\n]*\n```/, 'the two commands');
  const tryIt = /Try it:\n\n```sh\n([\s\S]*?)```/.exec(first);
  t.ok(tryIt, 'a try-it block');
  const lines = tryIt![1]!.trimEnd().split('\n');
  t.equal(lines.length, 5, 'five lines');
  for (const [what, pattern] of [
    ['curl', /^curl /],
    ['redis-cli', /^redis-cli /],
    ['the status page', /:9464\//],
  ] as const)
    t.ok(
      lines.some((l) => pattern.test(l)),
      `with ${what}`,
    );
  t.match(first, /!\[[^\]]*\]\(docs\/status-page\.png\)/, 'the status page screenshot');
  for (const page of DOCS.filter((p) => p !== 'docs/README.md'))
    t.ok(readme.includes(`| [${page}](${page}) |`), `${page} in the documentation table`);
  for (const marker of ['<!-- bench:start -->', '<!-- bench:end -->']) t.equal(readme.split(marker).length, 2, `${marker} once`);
  t.ok(readme.indexOf('<!-- bench:start -->') < readme.indexOf('<!-- bench:end -->'), 'in order');
});

t.test('README: the test line names the system packages of test/system-packages.txt, in its order', async (t) => {
  const listed = read('test/system-packages.txt')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(/\s+/)[0]!);
  t.ok(listed.length >= 5, `${listed.length} packages listed`);
  const line = /The tests need (.*?) \(`apt-get install ([^`]+)`/.exec(read('README.md'));
  t.ok(line, 'a test line with an apt-get install');
  t.same(
    [...line![1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]),
    listed,
    'named in the sentence, in order',
  );
  t.same(line![2]!.split(' '), listed, 'in the apt line, in order');
});

t.test('the repository tracks nothing a run leaves behind', async (t) => {
  const git = (...args: string[]): string[] =>
    execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter((l) => l !== '');
  t.same(git('ls-files', '--cached', '--ignored', '--exclude-standard'), [], 'no tracked file matches .gitignore');
  const ignore = read('.gitignore');
  for (const pattern of ['*.log', '.tap/', '.clinic/', '*.cpuprofile', 'benchmarks/results/tmp/', 'benchmarks/results/profile/'])
    t.ok(ignore.split('\n').includes(pattern), `${pattern} is ignored`);
});
