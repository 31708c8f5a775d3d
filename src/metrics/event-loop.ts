/**
 * Event-loop delay of the calling thread, published into a stats array once
 * per window so that the main thread can read every thread's figure at
 * scrape time without asking the thread.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** How often the delay figures are refreshed; they describe the last window. */
export const LOOP_WINDOW_MS = 1000;
const RESOLUTION_MS = 10;

/**
 * Samples this thread's event loop and writes the median, 99th percentile
 * and maximum delay (seconds) of each window into `stats[at]`, `stats[at +
 * 1]`, `stats[at + 2]`. The timer is unref'd: it never keeps a thread alive.
 */
export function trackEventLoop(stats: Float64Array, at: number): void {
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  // The histogram records each sampling interval whole (an idle loop reads
  // as RESOLUTION_MS), in nanoseconds; the delay is what exceeds it.
  const delay = (ns: number): number => (h.count === 0 ? 0 : Math.max(0, ns / 1e6 - RESOLUTION_MS) / 1000);
  setInterval(() => {
    stats[at] = delay(h.percentile(50));
    stats[at + 1] = delay(h.percentile(99));
    stats[at + 2] = delay(h.max);
    h.reset();
  }, LOOP_WINDOW_MS).unref();
}
