/** Runs wrk with `paths.lua` and reads the JSON line its `done` hook prints. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../../test/helpers/processes.js';

const SCRIPT = join(ROOT, 'benchmarks/lib/paths.lua');

export interface LoadResult {
  rps: number;
  requests: number;
  /** Socket errors plus non-2xx/3xx answers. */
  errors: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LoadOptions {
  /** Base URL of the target, e.g. http://127.0.0.1:8080 */
  url: string;
  /** File with one request path per line. */
  pathsFile: string;
  connections: number;
  seconds: number;
  threads?: number;
  /** Paced run: each connection waits this long between requests. */
  pauseMs?: number;
  /** With `paths.lua`: the index of the first path to request (default: a random one). */
  startAt?: number;
  /** Headers sent with every request (`Authorization` for ACCESS_FILE); `paths.lua` reads them from WRK_HEADERS. */
  headers?: Record<string, string>;
  /** Another wrk script than `paths.lua` (which then gets `scriptArgs` instead of the paths file and the pause). */
  script?: string;
  scriptArgs?: string[];
}

export function runWrk(o: LoadOptions): Promise<LoadResult> {
  const scriptArgs =
    o.script === undefined
      ? [o.pathsFile, String(o.pauseMs ?? 0), ...(o.startAt === undefined ? [] : [String(o.startAt)])]
      : (o.scriptArgs ?? []);
  const args = [
    '-t',
    String(o.threads ?? 1),
    '-c',
    String(o.connections),
    '-d',
    `${o.seconds}s`,
    '--timeout',
    '5s',
    '-s',
    o.script ?? SCRIPT,
    o.url,
    '--',
    ...scriptArgs,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, {
      cwd: ROOT,
      env: {
        ...process.env,
        WRK_PAUSE_MS: String(o.pauseMs ?? 0),
        WRK_HEADERS: Object.entries(o.headers ?? {})
          .map(([name, value]) => `${name}: ${value}\n`)
          .join(''),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const line = /WRK_JSON (\{.*\})/.exec(out);
      if (code !== 0 || line === null) return reject(new Error(`wrk failed (${code}): ${out.slice(-500)}`));
      const r = JSON.parse(line[1]!) as {
        requests: number;
        duration_us: number;
        errors: Record<string, number>;
        p50_us: number;
        p90_us: number;
        p99_us: number;
        max_us: number;
      };
      resolve({
        rps: r.requests / (r.duration_us / 1e6),
        requests: r.requests,
        errors: Object.values(r.errors).reduce((a, b) => a + b, 0),
        p50Ms: r.p50_us / 1000,
        p90Ms: r.p90_us / 1000,
        p99Ms: r.p99_us / 1000,
        maxMs: r.max_us / 1000,
      });
    });
  });
}
