/**
 * The one place a secret is taken out of text meant for people: logs, error
 * messages, the status page, /stats.json. A leaf (it imports nothing), so the
 * main thread can use it without loading the Redis client.
 */

/**
 * `url` with its password replaced by `***`. Text that is not a URL (a bad
 * REDIS_URL being reported) keeps only what follows its last `@`, since
 * whatever stands before it may be a password.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    const at = url.lastIndexOf('@');
    return at < 0 ? url : `***${url.slice(at)}`;
  }
}

/**
 * A JSON.parse error about a file that may hold secrets (ACCESS_FILE), with
 * the file's text taken out: V8 quotes the text it failed on, and the
 * character it choked on, which may be a token pasted where its hash belongs.
 * The position, when V8 gives one, stays.
 */
export function redactJsonError(message: string): string {
  return message
    .replace(/^Unexpected token '[\s\S]*?', [\s\S]* is not valid JSON$/, 'Unexpected character')
    .replace(/^Unexpected token '[\s\S]*?'/, 'Unexpected character');
}
