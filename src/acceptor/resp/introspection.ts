/**
 * The commands clients and tools send to learn about the server: COMMAND,
 * CONFIG GET and INFO, answered from a small fixed table, in the RESP3 types
 * Redis 7.0 uses when the connection speaks RESP3 (a map for CONFIG GET and
 * COMMAND DOCS, a verbatim string for INFO).
 */
import { VERSION } from '../../version.js';
import { arrayHeader, encode } from './reply.js';
import { REDIS_COMPAT_VERSION, resp3, type ServerFacts, type Session, unknownCommand, wrongArity } from './session.js';

const EMPTY_MAP = Buffer.from('%0\r\n', 'latin1');

/** COMMAND, COMMAND DOCS, COMMAND COUNT: an empty table (clients then use their built-in help). */
export function command(session: Session, args: string[], argc: number): void {
  if (argc === 1) return session.reply(arrayHeader(0));
  const sub = args[1]!.toUpperCase();
  if (sub === 'DOCS') return session.reply(resp3(session) ? EMPTY_MAP : arrayHeader(0));
  if (sub === 'INFO') return session.reply(arrayHeader(0));
  if (sub === 'COUNT' && argc === 2) return session.reply(encode(0));
  session.reply(unknownCommand(`COMMAND ${args[1]!}`));
}

/** CONFIG GET: the parameters benchmark tools ask for, read-only. */
const CONFIG: [string, string][] = [
  ['save', ''],
  ['appendonly', 'no'],
  ['databases', '1'],
];

/** CONFIG GET pattern…: the matching parameters, as a map in RESP3. */
export function config(session: Session, args: string[], argc: number): void {
  if (args[1]!.toUpperCase() !== 'GET') return session.reply(unknownCommand(`CONFIG ${args[1]!}`));
  if (argc < 3) return session.reply(wrongArity('config|get'));
  const patterns = args.slice(2, argc).map((p) => p.toLowerCase());
  const found = CONFIG.filter(([name]) => patterns.some((p) => globMatch(p, name)));
  session.reply(encode({ map: found.flat() }, resp3(session)));
}

/**
 * `*` and `?` glob matching, as CONFIG GET takes. Greedy with one
 * backtrack point, so a pattern of many stars costs O(pattern × name), where
 * a regular expression built from it could backtrack for ever.
 */
export function globMatch(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === name[n])) {
      p++;
      n++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = n;
    } else if (star >= 0) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** INFO [section…]: a short server section; other sections are empty. */
export function info(session: Session, args: string[], argc: number, facts: ServerFacts): void {
  const sections = args.slice(1, argc).map((s) => s.toLowerCase());
  const wanted = sections.length === 0 || sections.some((s) => s === 'server' || s === 'default' || s === 'all' || s === 'everything');
  let text = '';
  if (wanted) {
    const uptime = Math.floor((Date.now() - facts.startedAt) / 1000);
    const lines = [
      '# Server',
      `redis_version:${REDIS_COMPAT_VERSION}`,
      `shardcache_version:${VERSION}`,
      'redis_mode:standalone',
      `process_id:${process.pid}`,
      `tcp_port:${facts.port}`,
      `uptime_in_seconds:${uptime}`,
      `shards:${facts.shards}`,
      `connected_clients:${facts.connections}`,
      'loading:0',
    ];
    text = `${lines.join('\r\n')}\r\n`;
  }
  session.reply(encode({ verbatim: text }, resp3(session)));
}
