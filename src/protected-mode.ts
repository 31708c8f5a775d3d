/**
 * Protected mode, as in Redis: a proxy that listens beyond loopback serves
 * only with ACCESS_FILE set, unless PROTECTED_MODE=off says that the
 * network itself is the boundary (a container's published ports, a private
 * network). A leaf of plain string checks, for config.ts and main.ts.
 */
import net from 'node:net';

/** Whether `host` is a loopback address or name: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return net.isIPv4(v4) && v4.startsWith('127.');
}

/** The listener settings protected mode looks at. */
export interface Exposure {
  host: string;
  adminHost: string;
  adminPort: number | 'off';
  accessFile: string;
}

/**
 * The listen settings that are not loopback while no ACCESS_FILE is set
 * (`HOST=0.0.0.0`, …); empty when the proxy is protected by either.
 */
export function unprotected(c: Exposure): string[] {
  if (c.accessFile !== '') return [];
  const open: string[] = [];
  if (!isLoopback(c.host)) open.push(`HOST=${c.host}`);
  if (c.adminPort !== 'off' && !isLoopback(c.adminHost)) open.push(`ADMIN_HOST=${c.adminHost}`);
  return open;
}
