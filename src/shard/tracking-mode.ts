/**
 * TRACKING_MODE: which of Redis's two kinds of client tracking a shard's
 * data connections ask for (docs/coherence.md#tracking-modes).
 *
 * - `default`: Redis remembers every key each connection read, in one table
 *   for all its clients, capped by `tracking-table-max-keys`; past the cap it
 *   evicts keys from the table and invalidates them although nothing changed.
 *   Only writes to keys some proxy read are sent.
 * - `bcast`: Redis keeps no per-key state; every write to a key under the
 *   prefix (KEY_PREFIX, or every key when it is unset) is sent to every
 *   subscriber, read or not. The cache holds CACHE_CAPACITY whatever the
 *   table's size; each proxy pays for the whole write rate.
 */

/** The values TRACKING_MODE takes. */
export const TRACKING_MODES = ['default', 'bcast'] as const;

/** One of `TRACKING_MODES`. */
export type TrackingMode = (typeof TRACKING_MODES)[number];

/** How a shard's connections are tracked (cloned into each worker with the backend settings). */
export interface TrackingSpec {
  mode: TrackingMode;
  /** KEY_PREFIX, one char per byte; '' covers every key. Only `bcast` uses it. */
  prefix: string;
}

/**
 * The arguments after `CLIENT` that turn tracking on toward the subscriber
 * `redirect`: `TRACKING ON REDIRECT <id>`, then in `bcast` mode `BCAST` and
 * `PREFIX <KEY_PREFIX>` (raw bytes), or no prefix to cover every key.
 */
export function trackingOn(spec: TrackingSpec | undefined, redirect: number): (string | Buffer)[] {
  const args: (string | Buffer)[] = ['TRACKING', 'ON', 'REDIRECT', String(redirect)];
  if (spec?.mode !== 'bcast') return args;
  args.push('BCAST');
  if (spec.prefix !== '') args.push('PREFIX', Buffer.from(spec.prefix, 'latin1'));
  return args;
}
