/**
 * A Shard with its Invalidation over real connections, for the in-process
 * tracking tests (invalidation.test.ts, invalidation-links.test.ts).
 */
import { BatchReader } from '../../src/hop/wire.js';
import { Invalidation } from '../../src/shard/invalidation/invalidation.js';
import { connectRedis, redisFetch } from '../../src/shard/redis/redis.js';
import { Shard, type Fetch } from '../../src/shard/shard.js';
import { batch, linked, type Reply } from './batches.js';
import { sleep } from './time.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Waits until `ok()` holds, failing after `ms`. */
export async function until(ok: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(5);
  }
}

/**
 * A shard with tracking over its own connections to `url`. `gate(key)` holds the
 * reply of the next GET of `key`, after Redis has sent it, until the
 * returned `open` is called.
 */
export async function tracked(t: Teardown, url: string, options: { pingMs?: number; negativeTtlMs?: number } = {}) {
  const logs: string[] = [];
  const push = (line: string): void => {
    logs.push(line);
  };
  const log = { info: push, warn: push, error: push };
  const data = connectRedis({ url, timeoutMs: 500, label: 'test', log, ...(options.pingMs ? { pingMs: options.pingMs } : {}) });
  const real = redisFetch(data.redis);
  const gates = new Map<string, { replied: () => void; opened: Promise<void> }>();
  let gets = 0;
  const fetch: Fetch = (key) => {
    gets++;
    const gate = gates.get(key.toString('latin1'));
    if (gate === undefined) return real(key);
    gates.delete(key.toString('latin1'));
    return real(key).then(async (result) => {
      gate.replied();
      await gate.opened;
      return result;
    });
  };
  const replies: Reply[] = [];
  const reader = new BatchReader();
  const shard = linked(
    new Shard({
      capacity: 100,
      cacheTtlMs: 600000,
      negativeTtlMs: options.negativeTtlMs ?? 0,
      fetch,
    }),
    (b) => {
      reader.reset(b);
      while (reader.next())
        replies.push(
          reader.code >= 0
            ? [reader.id, reader.code, reader.buffer.latin1Slice(reader.offset, reader.offset + reader.code)]
            : [reader.id, reader.code],
        );
    },
  );
  const link = new Invalidation({
    url,
    timeoutMs: 500,
    data: data.redis,
    target: shard,
    label: 'test',
    log,
    ...(options.pingMs ? { pingMs: options.pingMs } : {}),
  });
  t.teardown(() => {
    link.close();
    data.close();
  });
  await until(() => link.settled, 'tracking settles');
  let nextId = 0;
  /** Reads `key` through the shard and resolves with its reply. */
  const read = async (key: string): Promise<Reply> => {
    const id = ++nextId;
    shard.receive(batch([id, key]), 0);
    await until(() => replies.some((r) => r[0] === id), `reply to ${key}`);
    return replies.find((r) => r[0] === id)!;
  };
  const gate = (key: string): { replied: Promise<void>; open: () => void } => {
    let replied!: () => void;
    let open!: () => void;
    const repliedP = new Promise<void>((resolve) => (replied = resolve));
    const opened = new Promise<void>((resolve) => (open = resolve));
    gates.set(key, { replied, opened });
    return { replied: repliedP, open };
  };
  return { shard, link, data, read, gate, logs, gets: () => gets, replies };
}
