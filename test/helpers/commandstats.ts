/** What Redis counted: the one reading of `INFO commandstats` the tests share. */
import type { Redis } from 'ioredis';

/** Calls of the named commands (lower case: `get`, `mget`, …) Redis has run since it started or the last CONFIG RESETSTAT, added up. */
export async function commandCalls(client: Pick<Redis, 'info'>, ...names: string[]): Promise<number> {
  const info = await client.info('commandstats');
  return names.reduce((n, name) => n + Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0), 0);
}

/** The reads the proxy sent Redis: GET and MGET calls, added up over `clients` (a cluster's masters, say). */
export async function getCalls(...clients: Pick<Redis, 'info'>[]): Promise<number> {
  let calls = 0;
  for (const client of clients) calls += await commandCalls(client, 'get', 'mget');
  return calls;
}
