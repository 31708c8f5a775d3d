/**
 * A background writer for the coherence benchmarks: SETs at a fixed rate
 * to keys named by `keyOf(n)`, in one of two shapes.
 *
 * - `batched`: every 10 ms, the SETs owed since the last tick, in one socket
 *   write (Redis reads them in one or a few event-loop turns): how a busy
 *   application with many clients looks to Redis.
 * - `sequential`: one SET at a time, each sent when the one before was
 *   answered, paced down to the rate: every SET its own event-loop turn.
 *
 * It speaks RESP over a plain socket and counts the `+OK` replies by their
 * bytes: on two cores a client library's own CPU at 10k SET/s would be
 * charged to the proxy being measured beside it.
 */
import net from 'node:net';

/** What a writer did, once stopped. */
export interface Written {
  sets: number;
  seconds: number;
}

/** A writer running in the background. */
export interface Writer {
  /** Stops sending and resolves once every SET sent was answered (and the socket closed). */
  stop(): Promise<Written>;
}

const OK = '+OK\r\n'.length;

function set(key: string): string {
  return `*3\r\n$3\r\nSET\r\n$${Buffer.byteLength(key)}\r\n${key}\r\n$1\r\nw\r\n`;
}

/** Connects to Redis at `port` and writes until stopped. */
export async function startWriter(
  port: number,
  rate: number,
  shape: 'batched' | 'sequential',
  keyOf: (n: number) => string,
): Promise<Writer> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.setNoDelay(true);
  let sent = 0;
  let answered = 0;
  let stopped = false;
  let drained: (() => void) | undefined;
  const started = performance.now();
  const due = (): number => Math.floor((rate * (performance.now() - started)) / 1000);
  const sendOne = (): void => {
    if (!stopped) socket.write(set(keyOf(sent++)));
  };
  socket.on('data', (chunk: Buffer) => {
    answered += chunk.length;
    if (answered / OK >= sent && stopped) drained?.();
    if (shape !== 'sequential' || stopped || answered / OK < sent) return;
    // The reply to the last one came: the next, now or once the rate allows.
    if (sent < due()) sendOne();
    else setTimeout(sendOne, Math.max(0, ((sent + 1) * 1000) / rate - (performance.now() - started)));
  });
  let timer: NodeJS.Timeout | undefined;
  if (shape === 'batched') {
    timer = setInterval(() => {
      let batch = '';
      for (const upTo = due(); sent < upTo; ) batch += set(keyOf(sent++));
      if (batch !== '') socket.write(batch);
    }, 10);
  } else {
    sendOne();
  }
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      const seconds = (performance.now() - started) / 1000;
      if (answered / OK < sent) await new Promise<void>((resolve) => (drained = resolve));
      socket.destroy();
      return { sets: answered / OK, seconds };
    },
  };
}
