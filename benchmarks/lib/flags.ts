/**
 * The command line of `npm run bench` (benchmarks/run.ts): `--quick`,
 * `--only=a,b`, `--rounds=N`, `--seconds=N`. A bad number exits 2 with one
 * line naming it, as soon as this module is loaded.
 */
export const quick = process.argv.includes('--quick');
export const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',');
/** `--rounds=N` / `--seconds=N` override the defaults below (a 2 % bar needs more rounds than five on 2 noisy cores). */
function numberFlag(name: string): number | undefined {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (arg === undefined) return undefined;
  const n = Number(arg.slice(name.length + 3));
  if (Number.isInteger(n) && n >= 1) return n;
  console.error(`bench: --${name}= wants a positive whole number, not ${JSON.stringify(arg.slice(name.length + 3))}`);
  process.exit(2);
}
// Five rounds: with three, one noisy round moved a median ratio by 0.1.
export const ROUNDS = numberFlag('rounds') ?? (quick ? 2 : 5);
export const SECONDS = numberFlag('seconds') ?? (quick ? 3 : 6);
