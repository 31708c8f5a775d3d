/** What Redis counted: the one reading of `INFO commandstats` the tests share. */
import type { Redis } from 'ioredis';

/** Calls of the named commands (lower case: `get`, `mget`, …) Redis has run since it started or the last CONFIG RESETSTAT, added up. */
export async function commandCalls(client: Pick<Redis, 'info'>, ...names: string[]): Promise<number> {
  const info = await client.info('commandstats');
  return names.reduce((n, name) => n + Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0), 0);
}

/** The reads the proxy sent Redis: GET and MGET calls. */
export function getCalls(client: Pick<Redis, 'info'>): Promise<number> {
  return commandCalls(client, 'get', 'mget');
}
