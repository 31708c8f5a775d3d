/**
 * A TCP relay that delays what the server sends back: the stand-in for
 * `tc qdisc … netem delay` on kernels built without netem (this machine's:
 * CONFIG_NET_SCH_NETEM is not set, and `tc` answers "Specified qdisc kind is
 * unknown"). Run inside the test's network namespace, between the veth and
 * Redis, it adds the delay to every reply as netem on the namespace's side
 * of the link would, keeping the bytes in order; the loss and the cut are
 * made on the link itself (iptables, `ip link`), through this relay.
 *
 *   node delay-relay.js <listen host> <listen port> <target port>
 *
 * The delay starts at 0; each line on stdin sets it (milliseconds). The
 * line `listening` on stdout says it is ready. Connections end as the
 * other side's do; an error on either side destroys both.
 */
import net from 'node:net';

const [host, port, target] = process.argv.slice(2);
let delayMs = 0;
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  for (const line of chunk.split('\n')) if (/^\d+$/.test(line.trim())) delayMs = Number(line.trim());
});
// The test's end of stdin closing means the test is gone: so is the relay.
process.stdin.on('end', () => process.exit(0));

const server = net.createServer((client) => {
  const upstream = net.connect({ host: '127.0.0.1', port: Number(target) });
  const later = (fn: () => void): void => {
    // Timers of one duration fire in the order they were set: the bytes stay in order.
    if (delayMs === 0) fn();
    else setTimeout(fn, delayMs);
  };
  client.pipe(upstream);
  upstream.on('data', (data: Buffer) => later(() => client.write(data)));
  upstream.on('end', () => later(() => client.end()));
  const destroy = (): void => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', destroy);
  upstream.on('error', destroy);
  client.on('close', () => upstream.destroy());
});
server.listen(Number(port), host, () => process.stdout.write('listening\n'));
