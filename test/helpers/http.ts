/** Small undici helpers for black-box tests. */
import { request, Agent } from 'undici';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** An agent with enough connections for the parallel tests; close it in teardown. */
export function agent(connections = 16): Agent {
  return new Agent({ connections, pipelining: 1 });
}

/** GETs (or HEADs) `path` and reads the whole body. */
export async function get(
  base: string,
  path: string,
  options: { method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE'; dispatcher?: Agent } = {},
): Promise<Answer> {
  const res = await request(base + path, {
    method: options.method ?? 'GET',
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

/** Percent-encodes every byte of `key`, as a client holding a binary key would. */
export function encodeKey(key: Buffer): string {
  let out = '';
  for (const b of key) out += `%${b.toString(16).padStart(2, '0')}`;
  return out;
}
