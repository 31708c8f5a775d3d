/**
 * The RESP listener's own commands, black-box against the built proxy in
 * front of a private redis-server: connection commands (PING, ECHO, SELECT,
 * CLIENT, HELLO, COMMAND, CONFIG, INFO), write and unknown commands refused
 * before Redis, and redis-cli. Reads and replies: resp.test.ts.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { respProxy } from './helpers/resp-proxy.js';
import { command, decodeAll, exchange, type Reply } from './helpers/resp.js';

const { redis, port, client, calls } = await respProxy(t);
const run = promisify(execFile);

t.test('connection commands', async (t) => {
  const cases: [(string | Buffer)[], Reply][] = [
    [['PING', 'hi'], 'hi'],
    [['PING', 'a', 'b'], { error: "ERR wrong number of arguments for 'ping' command" }],
    [['ECHO', 'x\r\ny'], 'x\r\ny'],
    [['SELECT', '0'], 'OK'],
    [['SELECT', '1'], { error: 'ERR DB index is out of range' }],
    [['SELECT', 'one'], { error: 'ERR value is not an integer or out of range' }],
    [['CLIENT', 'GETNAME'], null],
    [['CLIENT', 'SETNAME', 'worker-1'], 'OK'],
    [['CLIENT', 'GETNAME'], 'worker-1'],
    [['CLIENT', 'SETNAME', 'bad name'], { error: 'ERR Client names cannot contain spaces, newlines or special characters.' }],
    [['CLIENT', 'SETINFO', 'LIB-NAME', 'test'], 'OK'],
    [['CLIENT', 'SETNAME'], { error: "ERR wrong number of arguments for 'client|setname' command" }],
    [['CLIENT', 'KILL', 'x'], { error: "ERR unknown or unsupported command 'CLIENT KILL'" }],
    [['HELLO', '4'], { error: 'NOPROTO unsupported protocol version' }],
    [['HELLO', '1'], { error: 'NOPROTO unsupported protocol version' }],
    [['HELLO', 'x'], { error: 'ERR Protocol version is not an integer or out of range' }],
    [['HELLO', '2', 'AUTH', 'u', 'p'], { error: 'WRONGPASS invalid username-password pair or user is disabled.' }],
    [['HELLO', '2', 'SETNAME', 'a b'], { error: 'ERR Client names cannot contain spaces, newlines or special characters.' }],
    [['HELLO', '2', 'FOO'], { error: "ERR Syntax error in HELLO option 'FOO'" }],
    [
      ['HELLO', '2', 'SETNAME', 'renamed'],
      ['server', 'shardcache', 'version', '0.1.0', 'proto', 2, 'id', 0, 'mode', 'standalone', 'role', 'master', 'modules', []],
    ],
    [['CLIENT', 'GETNAME'], 'renamed'],
    [['COMMAND'], []],
    [['COMMAND', 'DOCS'], []],
    [['COMMAND', 'COUNT'], 0],
    [['COMMAND', 'GETKEYS'], { error: "ERR unknown or unsupported command 'COMMAND GETKEYS'" }],
    [
      ['CONFIG', 'GET', 'save'],
      ['save', ''],
    ],
    [
      ['config', 'get', 'appendonly', 'nothing'],
      ['appendonly', 'no'],
    ],
    [
      ['CONFIG', 'GET', '*'],
      ['save', '', 'appendonly', 'no', 'databases', '1'],
    ],
    [['CONFIG', 'SET', 'save', ''], { error: "ERR unknown or unsupported command 'CONFIG SET'" }],
    [['CONFIG', 'GET'], { error: "ERR wrong number of arguments for 'config|get' command" }],
    [['INFO', 'keyspace'], ''],
    [['GET', 'k'.repeat(65)], { error: 'ERR key longer than MAX_KEY_BYTES (64 bytes)' }],
    [['MGET', 'a', 'k'.repeat(65)], { error: 'ERR key longer than MAX_KEY_BYTES (64 bytes)' }],
    [['GET'], { error: "ERR wrong number of arguments for 'get' command" }],
  ];
  const { data } = await exchange(port, Buffer.concat(cases.map(([args]) => command(...args))), { replies: cases.length });
  const replies = decodeAll(data);
  // HELLO's reply holds this connection's id, which only the server knows.
  const id = (replies[19] as Reply[])[7] as number;
  t.ok(id > 0, 'HELLO tells the connection id');
  (cases[19]![1] as Reply[])[7] = id;
  for (const [i, [args, reply]] of cases.entries()) t.same(replies[i], reply, args.join(' ').slice(0, 60));
  const c = client({ protocol: 2 });
  const info = (await c.info()) as string;
  t.match(info, /^# Server\r\nredis_version:7\.0\.0\r\nshardcache_version:0\.1\.0\r\n/);
  t.match(info, /\r\nshards:4\r\n/);
  t.match(info, `tcp_port:${port}`);
  t.match(await c.info('server'), /^# Server\r\n/);
  t.match(await c.info('all'), /^# Server\r\n/);
  t.ok(Number(await c.client('ID')) > id, 'CLIENT ID counts up per connection');
});

t.test('write and unknown commands are refused and never reach Redis', async (t) => {
  await redis.client.set('guarded', 'original');
  const before = { set: await calls('set'), del: await calls('del'), flushall: await calls('flushall') };
  const c = client({ protocol: 2 });
  await t.rejects(c.set('guarded', 'changed'), { message: "ERR unknown or unsupported command 'set'" });
  await t.rejects(c.del('guarded'), { message: "ERR unknown or unsupported command 'del'" });
  await t.rejects(c.flushall(), { message: "ERR unknown or unsupported command 'flushall'" });
  await t.rejects(c.call('NOSUCH\r\nCMD'), { message: "ERR unknown or unsupported command 'NOSUCH  CMD'" });
  t.equal(await redis.client.get('guarded'), 'original');
  t.same({ set: await calls('set'), del: await calls('del'), flushall: await calls('flushall') }, before, 'Redis saw none of them');
  t.equal(await c.ping(), 'PONG', 'the connection stays usable');
});

t.test('redis-cli', async (t) => {
  await redis.client.set('cli:k', 'from-redis');
  const cli = (...args: string[]): Promise<string> => run('redis-cli', ['-p', String(port), ...args]).then((r) => r.stdout);
  t.equal(await cli('GET', 'cli:k'), 'from-redis\n');
  t.equal(await cli('MGET', 'cli:k', 'cli:none'), 'from-redis\n\n');
  t.equal(await cli('PING'), 'PONG\n');
  t.match(await cli('SET', 'cli:k', 'x'), /^ERR unknown or unsupported command 'SET'\n/);
  t.equal(await redis.client.get('cli:k'), 'from-redis');
  const piped = await new Promise<string>((resolve, reject) => {
    const child = execFile('redis-cli', ['-p', String(port)], (err, stdout) => (err ? reject(err) : resolve(stdout)));
    child.stdin!.end('GET cli:k\nECHO "two words"\nSELECT 0\n');
  });
  t.equal(piped, 'from-redis\ntwo words\nOK\n', 'commands read from standard input');
});
