/**
 * Worker-thread entry of a shard, loaded by piscina.
 *
 * Piscina starts, names and replaces the thread; the request traffic does not
 * go through piscina tasks. The main thread runs one long `attach` task that
 * hands over a MessagePort, and from then on request batches and reply
 * batches flow over that port as transferred ArrayBuffers. The task stays in
 * flight for the life of the shard, so its rejection is how the main thread
 * learns that the worker died.
 */
import type { MessagePort } from 'node:worker_threads';
import { log } from '../src/log.js';
import { Shard } from '../src/shard/shard.js';
import { connectRedis, redisFetch } from '../src/shard/redis.js';

/** What the main thread sends to bring a shard up. */
export interface AttachTask {
  kind: 'attach';
  port: MessagePort;
  index: number;
  capacity: number;
  ttlMs: number;
  redisUrl: string;
  redisTimeoutMs: number;
}

/** Proves the worker loaded; the main thread runs it before serving. */
export interface PingTask {
  kind: 'ping';
}

export default function run(task: AttachTask | PingTask): Promise<string> | string {
  if (task.kind === 'ping') return 'pong';
  return attach(task);
}

function attach(task: AttachTask): Promise<string> {
  const { port } = task;
  const connection = connectRedis({
    url: task.redisUrl,
    timeoutMs: task.redisTimeoutMs,
    label: `shard ${task.index}`,
    log,
  });
  const shard = new Shard({
    capacity: task.capacity,
    ttlMs: task.ttlMs,
    fetch: redisFetch(connection.redis),
    send: (batch) => port.postMessage(batch, [batch]),
  });
  port.on('message', (batch: ArrayBuffer) => shard.receive(batch));
  return new Promise((resolve) => {
    port.once('close', () => {
      connection.close();
      resolve('closed');
    });
  });
}
