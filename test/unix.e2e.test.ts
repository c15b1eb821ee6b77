import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import pg from 'pg';
import { cleanEnv, runCli, runProgram } from './helpers/cli.js';
import { type Postgres, startPostgres } from './helpers/postgres.js';
import { startLinkfwd } from './helpers/process.js';
import { missingServers, type Redis, startRedis } from './helpers/services.js';

const skip = missingServers();

describe('PostgreSQL and Redis through Unix-socket listeners', { skip }, () => {
  let server: Postgres;
  let redis: Redis;
  let scratch: string;

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'linkfwd-unix-e2e-'));
    redis = await startRedis();
    server = await startPostgres();
  });
  after(async () => {
    await Promise.all([server?.destroy(), redis?.destroy()]);
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  /**
   * linkfwd in forward-only mode listening where libpq looks by default: `<dir>/.s.PGSQL.<port>`
   * (the directory created by --mkdir), and on a Redis socket in the same directory.
   */
  async function forwardSockets(t: TestContext) {
    const dir = join(mkdtempSync(join(scratch, 'run-')), 'postgresql');
    const pgSocket = join(dir, `.s.PGSQL.${server.port}`);
    const redisSocket = join(dir, 'redis.sock');
    const linkfwd = startLinkfwd(t, [
      '-v',
      '--mkdir',
      '--unix-mode',
      '0660',
      '-f',
      `unix:${pgSocket}:${server.host}:${server.port}`,
      '-f',
      `unix:${redisSocket}:${redis.host}:${redis.port}`,
    ]);
    await linkfwd.waitForStderr(/listening on .*redis\.sock/);
    const env = cleanEnv({
      PGHOST: dir,
      PGPORT: String(server.port),
      PGUSER: 'postgres',
      PGDATABASE: 'postgres',
    });
    return { dir, pgSocket, redisSocket, linkfwd, env };
  }

  test('psql with PGHOST=<dir>, pgbench over it, redis-cli -s; the sockets go with SIGTERM', {
    timeout: 90_000,
  }, async (t) => {
    const { pgSocket, redisSocket, linkfwd, env } = await forwardSockets(t);
    assert.equal(statSync(pgSocket).mode & 0o777, 0o660);

    // libpq's default form: no -h, the socket directory from PGHOST. The session arrives at
    // PostgreSQL over TCP from linkfwd.
    const query = 'SELECT host(inet_server_addr())';
    const psql = await runProgram('psql', ['-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', query], { env });
    assert.equal(psql.stderr, '');
    assert.equal(psql.stdout, `${server.host}\n`);

    const init = await runProgram('pgbench', ['-i', '-s', '1', '-q'], { env, timeout: 60_000 });
    assert.equal(init.status, 0, init.stderr);
    const bench = await runProgram('pgbench', ['-c', '4', '-j', '2', '-T', '3', '-S'], {
      env,
      timeout: 60_000,
    });
    assert.equal(bench.status, 0, bench.stderr);
    assert.match(bench.stdout, /number of failed transactions: 0 /);
    const done = Number(/number of transactions actually processed: (\d+)/.exec(bench.stdout)?.[1]);
    assert.ok(done > 100, `${done} transactions`);

    const redisCli = (...args: string[]) => runProgram('redis-cli', ['-s', redisSocket, ...args]);
    assert.equal((await redisCli('SET', 'unix-key', 'through a socket')).stdout, 'OK\n');
    assert.equal((await redisCli('GET', 'unix-key')).stdout, 'through a socket\n');

    linkfwd.child.kill('SIGTERM');
    assert.equal((await linkfwd.exited).status, 0);
    assert.equal(existsSync(pgSocket), false, 'the PostgreSQL socket file is removed');
    assert.equal(existsSync(redisSocket), false, 'the Redis socket file is removed');
  });

  test("Node's pg client with host: '<dir>'", { timeout: 30_000 }, async (t) => {
    const { dir } = await forwardSockets(t);
    const client = new pg.Client({
      host: dir,
      port: server.port,
      user: 'postgres',
      database: 'postgres',
    });
    await client.connect();
    t.after(() => client.end());
    const { rows } = await client.query('SELECT host(inet_server_addr()) AS host, 6 * 7 AS answer');
    assert.deepEqual(rows, [{ host: server.host, answer: 42 }]);
  });

  test('a live socket is refused (125) and left alone; a stale one is taken over', {
    timeout: 30_000,
  }, async (t) => {
    const { pgSocket, linkfwd } = await forwardSockets(t);
    const spec = `unix:${pgSocket}:${server.host}:${server.port}`;
    const second = await runCli(['-f', spec]);
    assert.equal(second.status, 125);
    assert.equal(
      second.stderr,
      `linkfwd: cannot listen on ${pgSocket}: a server is listening there (-f ${spec})\n`,
    );
    assert.ok(lstatSync(pgSocket).isSocket());

    linkfwd.child.kill('SIGKILL'); // leaves the socket file behind
    await linkfwd.exited;
    assert.ok(lstatSync(pgSocket).isSocket(), 'a crashed run leaves a stale socket');
    const next = startLinkfwd(t, ['-v', '-f', spec]);
    await next.waitForStderr(/listening on /);
    const psql = await runProgram('psql', [
      '-XAtq',
      '-h',
      join(pgSocket, '..'),
      '-p',
      String(server.port),
      '-U',
      'postgres',
      '-c',
      'SELECT 1',
    ]);
    assert.equal(psql.stdout, '1\n');
    next.child.kill('SIGINT');
    assert.equal((await next.exited).status, 0);
    assert.equal(existsSync(pgSocket), false);
  });
});

describe('bad forward specs: one line naming them, exit 125', () => {
  const dir = mkdtempSync(join(tmpdir(), 'linkfwd-badspec-'));
  mkdirSync(join(dir, 'a-directory'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const cases: [string, RegExp][] = [
    [
      '53:dns:53/sctp',
      /^linkfwd: invalid forward "53:dns:53\/sctp": unsupported protocol "sctp" \(tcp or udp\)/,
    ],
    [
      'unix:run/db.sock:db:5432',
      /^linkfwd: invalid forward "unix:run\/db.sock:db:5432": Unix socket path "run\/db.sock" is not absolute/,
    ],
    [
      `unix:${join(dir, 'a-directory')}:db:5432`,
      /^linkfwd: cannot listen on .*a-directory: it is a directory \(-f unix:/,
    ],
    [
      `unix:${join(dir, 'no', 'such', 's')}:db:5432`,
      /^linkfwd: cannot listen on .*: directory .*no\/such does not exist \(--mkdir creates it\)/,
    ],
  ];
  for (const [spec, pattern] of cases) {
    test(spec.replace(dir, '<dir>'), async () => {
      const result = await runCli(['-f', spec, '--', 'true']);
      assert.equal(result.status, 125);
      assert.match(result.stderr, pattern);
      assert.equal(result.stderr.split('\n').length, 2, `one line: ${result.stderr}`);
    });
  }
});
