/**
 * How the coherence tests read through a proxy: a key's body, and how long
 * after a change in Redis the proxy first answers what the change should show.
 */
import type { Agent } from 'undici';
import { get } from './http.js';
import type { Proxy } from './processes.js';
import { sleep } from './time.js';

/** `body` and `msUntil` over the agent `http`. */
export function proxyReads(http: Agent) {
  const body = async (proxy: Proxy, key: string): Promise<string> =>
    (await get(proxy.url, `/${key}`, { dispatcher: http })).body.toString();

  /**
   * Milliseconds from the moment `change` was acknowledged by Redis until the
   * proxy answers `expected` for `key` (polled every 2 ms), or Infinity past 1 s.
   */
  async function msUntil(
    proxy: Proxy,
    key: string,
    change: () => Promise<unknown>,
    expected: (status: number, body: string) => boolean,
  ): Promise<number> {
    await change();
    const acked = performance.now();
    while (performance.now() - acked < 1000) {
      const answer = await get(proxy.url, `/${key}`, { dispatcher: http });
      if (expected(answer.status, answer.body.toString())) return performance.now() - acked;
      await sleep(2);
    }
    return Number.POSITIVE_INFINITY;
  }

  return { body, msUntil };
}
