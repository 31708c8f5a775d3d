/**
 * A bounded load loop for fault tests: `clients` concurrent loops over
 * `keys`, each request recorded with its outcome and timing, until `stop()`
 * says so or `maxRequests` have been sent. 127.0.0.1 only.
 */
import { request, type Agent } from 'undici';
import { sleep } from './time.js';

export interface Shot {
  key: string;
  /** HTTP status, or 0 when the request failed without an answer. */
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  /** The error code when `status` is 0 (ECONNREFUSED, UND_ERR_SOCKET, …). */
  error?: string;
  /** Milliseconds (performance.now()) when sent and when answered or failed. */
  started: number;
  ended: number;
}

export interface LoadOptions {
  base: string;
  keys: readonly string[];
  clients: number;
  dispatcher: Agent;
  stop: () => boolean;
  maxRequests: number;
  /** Pause between a client's requests, ms (default none). */
  pauseMs?: number;
  /** A client ends after its first failed request (default false). */
  endOnError?: boolean;
  /** Where to record the shots as they land (default: a new array), for watching a running load. */
  into?: Shot[];
}

export async function load(o: LoadOptions): Promise<Shot[]> {
  const shots: Shot[] = o.into ?? [];
  let sent = 0;
  const client = async (c: number): Promise<void> => {
    for (let i = 0; !o.stop() && sent < o.maxRequests; i++) {
      sent++;
      const key = o.keys[(c + i * o.clients) % o.keys.length]!;
      const started = performance.now();
      try {
        const res = await request(`${o.base}/${key}`, { dispatcher: o.dispatcher, headersTimeout: 20000, bodyTimeout: 20000 });
        const body = await res.body.text();
        shots.push({ key, status: res.statusCode, body, headers: res.headers, started, ended: performance.now() });
      } catch (err) {
        const e = err as Error & { code?: string; cause?: { code?: string } };
        shots.push({
          key,
          status: 0,
          body: '',
          headers: {},
          error: e.cause?.code ?? e.code ?? e.message,
          started,
          ended: performance.now(),
        });
        if (o.endOnError) return;
      }
      if (o.pauseMs) await sleep(o.pauseMs);
    }
  };
  await Promise.all(Array.from({ length: o.clients }, (_, c) => client(c)));
  return shots;
}
