/**
 * The functions a V8 CPU profile (`--cpu-prof`) spent its samples in, by
 * self time: what `npm run profile` prints for each thread, so that "where
 * the time goes" can be read without opening a profile viewer.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** One function's self time. */
export interface FunctionTime {
  /** `name file:line`, or V8's own entries such as `(garbage collector)`. */
  name: string;
  selfMs: number;
  /** Share of the thread's busy time (all samples but `(idle)`). */
  share: number;
}

/** The `count` functions with the most self time in the profile at `file`, and the thread's busy milliseconds. */
export function topFunctions(file: string, count: number): { busyMs: number; top: FunctionTime[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nameOf = new Map<number, string>();
  for (const n of profile.nodes) {
    const { functionName, url, lineNumber } = n.callFrame;
    const where = url === '' ? '' : ` ${url.slice(url.lastIndexOf('/') + 1)}:${lineNumber + 1}`;
    nameOf.set(n.id, `${functionName === '' ? '(anonymous)' : functionName}${where}`);
  }
  const self = new Map<string, number>();
  // A sample's time is the delta that follows it (the last sample has none).
  for (let i = 0; i < profile.samples.length; i++) {
    const name = nameOf.get(profile.samples[i]!) ?? '(unknown)';
    self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  }
  self.delete('(idle)');
  const busyUs = [...self.values()].reduce((a, b) => a + b, 0);
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({ name, selfMs: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }));
  return { busyMs: busyUs / 1000, top };
}
