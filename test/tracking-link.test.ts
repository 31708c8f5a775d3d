/**
 * A tracking link whose two connections reach different servers, as they
 * can behind sentinels, a DNS name or a load balancer (src/shard/invalidation/tracking-link.ts):
 * it must never arm a redirect across servers. Two real redis-servers; the
 * data connection on one, the subscriber pointed at the other.
 */
import t from 'tap';
import { Redis } from 'ioredis';
import { connectRedis } from '../src/shard/redis/redis.js';
import { TrackingLink } from '../src/shard/invalidation/tracking-link.js';
import { startRedis } from './helpers/processes.js';
import { sleep } from './helpers/time.js';

const a = await startRedis(t);
const b = await startRedis(t);

function logger(): { lines: string[]; log: { info(l: string): void; warn(l: string): void; error(l: string): void } } {
  const lines: string[] = [];
  const push = (line: string): void => void lines.push(line);
  return { lines, log: { info: push, warn: push, error: push } };
}

/** A data connection on `url`, and a link whose subscriber goes to `b` instead. */
async function crossed(t: { teardown(fn: () => unknown): void }, url: string) {
  const { lines, log } = logger();
  const data = connectRedis({ url, timeoutMs: 500, label: 'crossed', log });
  const events = { armed: 0, lost: 0 };
  const link = new TrackingLink({
    data: data.redis,
    url,
    server: {
      host: '127.0.0.1',
      port: b.port,
      ...(new URL(url).username ? { username: new URL(url).username, password: new URL(url).password } : {}),
    },
    timeoutMs: 500,
    label: 'crossed',
    log,
    events: { armed: () => events.armed++, lost: () => events.lost++, message: () => undefined, refused: () => undefined },
  });
  t.teardown(() => {
    link.close();
    data.close();
  });
  return { data, link, events, lines };
}

const trackingFlags = async (server: Redis, name: string): Promise<string> => {
  const line =
    String(await server.client('LIST'))
      .split('\n')
      .find((l) => l.includes(` name=${name} `)) ?? '';
  return /flags=(\S+)/.exec(line)?.[1] ?? '';
};

t.test('run_id differs: never armed, the subscriber is sent to reconnect, the data connection is not tracked', async (t) => {
  const { link, events, lines, data } = await crossed(t, a.url);
  const subscriberIds = async (): Promise<string[]> =>
    String(await b.client.client('LIST'))
      .split('\n')
      .filter((l) => / name=shardcache:crossed:invalidate /.test(l))
      .map((l) => /id=(\d+)/.exec(l)![1]!);
  await sleep(500);
  const first = await subscriberIds();
  await sleep(2000);
  t.equal(events.armed, 0, 'never armed');
  t.equal(link.armed, false);
  const warnings = lines.filter((l) =>
    /reached different servers \(run_id \w+ and \w+\); reconnecting the subscriber until both reach the same server/.test(l),
  );
  t.equal(warnings.length, 1, 'said once');
  const later = await subscriberIds();
  t.equal(later.length, 1, 'one subscriber at a time');
  t.not(later[0], first[0], 'a new subscriber: it was sent to reconnect (once a second)');
  t.notMatch(await trackingFlags(a.client, data.redis.options.connectionName!), /t/, 'no CLIENT TRACKING on the data connection');
});

t.test(
  'INFO forbidden by an ACL: one warning, the check is skipped, and a redirect to an id the server does not have is retried, not armed',
  async (t) => {
    for (const server of [a, b]) await server.client.call('ACL', 'SETUSER', 'noinfo', 'on', '>pw', '~*', '&*', '+@all', '-info');
    // Ids on b well above any on a, so that b's subscriber id does not exist on a.
    const filler = Array.from({ length: 40 }, () => new Redis({ port: b.port, host: '127.0.0.1', lazyConnect: true }));
    for (const f of filler) await f.connect();
    for (const f of filler) f.disconnect();
    const { link, events, lines } = await crossed(t, a.url.replace('redis://', 'redis://noinfo:pw@'));
    await sleep(2500);
    t.equal(lines.filter((l) => /INFO is not allowed/.test(l)).length, 1, 'the missing check is said once');
    t.equal(events.armed, 0, 'never armed: the server refuses the redirect');
    t.equal(link.armed, false);
    t.equal(
      lines.filter((l) => /the data connection's server does not know the subscriber's client id \d+; reconnecting the subscriber/.test(l))
        .length,
      1,
      'the refusal is said once, and the subscriber sent to reconnect',
    );
  },
);
