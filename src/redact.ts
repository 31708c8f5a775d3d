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
