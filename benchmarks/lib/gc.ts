/**
 * Forces a full garbage collection in a running Node process, in its main
 * thread and in every worker thread, from outside, through the inspector
 * protocol: the process is started with `--inspect=127.0.0.1:0` (through
 * NODE_OPTIONS, so its command line is production's), `NodeWorker.enable`
 * attaches to each worker, and `HeapProfiler.collectGarbage` runs in each.
 * Nothing in the proxy is there for the benchmark's sake.
 */
import { sleep } from '../../test/helpers/time.js';

/** The inspector's WebSocket address, from the line Node prints on stderr. */
export function inspectorUrl(stderr: string): string {
  const m = /Debugger listening on (ws:\/\/\S+)/.exec(stderr);
  if (m === null) throw new Error('no "Debugger listening on" line: start the process with NODE_OPTIONS=--inspect=127.0.0.1:0');
  return m[1]!;
}

interface Message {
  id?: number;
  method?: string;
  params?: { sessionId?: string; message?: string };
}

/** Collects garbage in every thread of the process whose inspector listens at `url`; resolves with the threads collected. */
export async function forceGc(url: string): Promise<number> {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`cannot reach the inspector at ${url}`));
  });
  const replies = new Map<number, () => void>();
  const sessions: string[] = [];
  const workerReplies = new Map<string, () => void>();
  ws.onmessage = (event: MessageEvent) => {
    const msg = JSON.parse(String(event.data)) as Message;
    if (msg.id !== undefined) replies.get(msg.id)?.();
    else if (msg.method === 'NodeWorker.attachedToWorker') sessions.push(msg.params!.sessionId!);
    else if (msg.method === 'NodeWorker.receivedMessageFromWorker') {
      const inner = JSON.parse(msg.params!.message!) as Message;
      if (inner.id === 1) workerReplies.get(msg.params!.sessionId!)?.();
    }
  };
  let next = 1;
  const call = (method: string, params: object = {}): Promise<void> =>
    new Promise((resolve) => {
      const id = next++;
      replies.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call('NodeWorker.enable', { waitForDebuggerOnStart: false });
  // Attach events for the workers already running follow the reply at once.
  await sleep(300);
  for (const sessionId of sessions) {
    await new Promise<void>((resolve) => {
      workerReplies.set(sessionId, resolve);
      void call('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }) });
    });
  }
  await call('HeapProfiler.collectGarbage');
  ws.close();
  return sessions.length + 1;
}

/** Resident set size of process `pid`, in bytes (Linux `/proc`). */
export async function rssOf(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}
