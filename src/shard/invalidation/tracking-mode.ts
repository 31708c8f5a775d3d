/**
 * TRACKING_MODE: which of Redis's two kinds of client tracking a shard's
 * data connections ask for (docs/coherence.md#tracking-modes); the setting's
 * values are in `routing/backend-settings.ts`, with the rest of the backend settings.
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

import type { TrackingSpec } from '../../routing/backend-settings.js';

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
