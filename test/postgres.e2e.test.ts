import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import pg from 'pg';
import { cleanEnv, linkfwdCommand, runCli, runProgram } from './helpers/cli.js';
import { type Postgres, startPostgres } from './helpers/postgres.js';
import { FIXTURES, startLinkfwd, within } from './helpers/process.js';
import { dockerLinkEnv, missingServers, type Redis, startRedis } from './helpers/services.js';
import { dial, observe } from './helpers/sockets.js';

const skip = missingServers();

describe('PostgreSQL (127.0.0.2 only) through linkfwd', { skip }, () => {
  let server: Postgres;
  let redis: Redis;
  let env: Record<string, string>;
  let scratch: string;

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'linkfwd-e2e-'));
    // One after the other: if the second fails, after() still stops the first.
    redis = await startRedis();
    server = await startPostgres();
    // What `docker run --link db:db` gives the app's container, plus libpq's own defaults.
    env = cleanEnv({
      ...dockerLinkEnv('db', server.host, server.port),
      PGUSER: 'postgres',
      PGDATABASE: 'postgres',
      PGCONNECT_TIMEOUT: '10',
    });
  });

  after(async () => {
    await Promise.all([server?.destroy(), redis?.destroy()]);
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  /** `psql -h HOST -p PORT -XAtq -v ON_ERROR_STOP=1 ...args`, run by linkfwd or directly. */
  const psql = (host: string, ...args: string[]) => [
    'psql',
    '-h',
    host,
    '-p',
    String(server.port),
    '-XAtq',
    '-v',
    'ON_ERROR_STOP=1',
    ...args,
  ];

  test('psql reaches it over 127.0.0.1, ::1 and localhost; its exit status passes through', async () => {
    const [file = '', ...args] = psql('127.0.0.1', '-c', 'SELECT 1');
    const direct = await runProgram(file, args, { env });
    assert.equal(direct.status, 2, 'without linkfwd nothing answers on 127.0.0.1');

    const query = "SELECT host(inet_server_addr()), current_setting('listen_addresses')";
    for (const host of ['127.0.0.1', '::1', 'localhost']) {
      const result = await runCli(['--', ...psql(host, '-c', query)], { env });
      assert.equal(result.stderr, '', host);
      assert.equal(result.status, 0, host);
      assert.equal(result.stdout, `${server.host}|${server.host}\n`, host);
    }
    const failing = await runCli(['--', ...psql('localhost', '-c', 'SELECT 1/0')], { env });
    assert.equal(failing.status, 1);
    assert.match(failing.stderr, /division by zero/);
    assert.doesNotMatch(failing.stderr, /^linkfwd:/m);
  });

  test('a 50 MB COPY in from stdin and back out to stdout is byte-exact', async () => {
    const input = join(scratch, 'copy-in.txt');
    const sent = writeCopyData(input, 50 * 1024 * 1024);
    const table = 'CREATE TABLE blob (n bigint GENERATED ALWAYS AS IDENTITY, line text NOT NULL)';
    const stdin = openSync(input, 'r');
    let copyIn: Streamed;
    try {
      // linkfwd never reads stdin: psql, its child, reads the file from the inherited fd.
      copyIn = await runStreamed(
        ['--', ...psql('127.0.0.1', '-c', table, '-c', 'COPY blob (line) FROM STDIN')],
        env,
        stdin,
      );
    } finally {
      closeSync(stdin);
    }
    assert.equal(copyIn.stderr, '');
    assert.equal(copyIn.status, 0, copyIn.signal === null ? undefined : STUCK);

    const copyOut = await runStreamed(
      ['--', ...psql('::1', '-c', 'COPY (SELECT line FROM blob ORDER BY n) TO STDOUT')],
      env,
      'ignore',
    );
    assert.equal(copyOut.stderr, '');
    assert.equal(copyOut.status, 0, copyOut.signal === null ? undefined : STUCK);
    assert.equal(copyOut.bytes, sent.bytes);
    assert.equal(copyOut.sha256, sent.sha256);
  });

  test('a Node app with pg and ioredis reaches both through localhost, IPv4 or IPv6 first', async () => {
    const appEnv = { ...env, ...dockerLinkEnv('cache', redis.host, redis.port) };
    const app = (preload: string[]) => [
      process.execPath,
      ...preload,
      `${FIXTURES}pg-redis-app.mjs`,
      String(server.port),
      String(redis.port),
    ];
    // As this machine resolves localhost, then as a host whose /etc/hosts lists ::1 first.
    const runs = [
      { preload: [], family: undefined },
      { preload: ['--import', `${FIXTURES}localhost-ipv6-first.mjs`], family: '::1' },
    ];
    for (const { preload, family } of runs) {
      const result = await runCli(['--', ...app(preload)], { env: appEnv, timeout: 30_000 });
      assert.equal(result.stderr, '');
      assert.equal(result.status, 0);
      const seen = JSON.parse(result.stdout);
      assert.deepEqual(seen.pg.server, { host: server.host, port: String(server.port) });
      assert.deepEqual(seen.pg.rows, [
        { k: 'a', n: 3 },
        { k: 'big', n: 1024 * 1024 },
      ]);
      assert.equal(seen.pg.echoedIntact, true);
      assert.deepEqual(
        { serverPort: seen.redis.serverPort, bigIntact: seen.redis.bigIntact },
        { serverPort: String(redis.port), bigIntact: true },
      );
      assert.equal(seen.redis.counter, 2);
      for (const remote of [seen.pg.remote, seen.redis.remote]) {
        assert.ok(['127.0.0.1', '::1'].includes(remote), remote);
        if (family !== undefined) assert.equal(remote, family);
      }
    }
  });

  test('PostgreSQL restarted under a forward-only linkfwd: clients fail fast while it is down, new connections work once it is back', async (t) => {
    const port = server.port;
    const origin = `DB_PORT_${port}_TCP`;
    const linkfwd = startLinkfwd(t, ['-v'], { env });
    await linkfwd.waitForStderr(new RegExp(`listening on 127\\.0\\.0\\.1:${port}`));
    // Forward-only mode first says where it listens; the warnings follow.
    const warnings = () =>
      linkfwd.stderr
        .split('\n')
        .filter((line) => line.startsWith('linkfwd:') && !line.startsWith('linkfwd: forwarding '));
    const refused = `linkfwd: cannot reach ${server.host}:${port} for ${origin}: connection refused`;

    for (const cycle of [1, 2]) {
      const held = await connectPg(t, port);
      assert.equal(await serverHost(held), server.host);
      const heldLost = new Promise<Error>((resolve) => held.on('error', resolve));

      await server.stop();
      const stoppedAt = Date.now();
      // The server ended the held session; linkfwd relays that at once.
      const lost = await within(heldLost, 5000, 'the held session to fail');
      assert.match(lost.message, /terminat|shutdown|closed|ECONNRESET/i);

      // While it is down a client is reset right away (no waiting for --connect-timeout).
      for (const attempt of [1, 2]) {
        const started = Date.now();
        await assert.rejects(connectPg(t, port), /ECONNRESET|terminated|closed/i);
        const raw = await within(observe(dial(t, port, '::1')), 5000, 'a raw client to close');
        assert.deepEqual({ bytes: raw.bytes, error: raw.error }, { bytes: 0, error: 'ECONNRESET' });
        assert.ok(
          Date.now() - started < 3000,
          `attempt ${attempt} took ${Date.now() - started} ms`,
        );
      }
      assert.ok(Date.now() - stoppedAt < 8000);
      assert.equal(linkfwd.child.exitCode, null, 'linkfwd is still running');
      // One warning per outage: its first failure, and the first after a success.
      assert.deepEqual(
        warnings(),
        Array.from({ length: cycle }, () => refused),
      );

      await server.start();
      let back: pg.Client | undefined;
      await pollAsync('a new session once PostgreSQL is back', 15_000, async () => {
        back = await connectPg(t, port).catch(() => undefined);
        return back !== undefined;
      });
      assert.equal(await serverHost(back as pg.Client), server.host);
      await (back as pg.Client).end();
    }

    assert.equal(linkfwd.child.exitCode, null, 'linkfwd is still running');
    linkfwd.child.kill('SIGTERM');
    const { status } = await within(linkfwd.exited, 5000, 'forward-only exit on SIGTERM');
    assert.equal(status, 0);
    assert.equal(linkfwd.stdout, '');
  });
});

/** A connected pg client to localhost:port (closed after the test); errors are observed by the test. */
async function connectPg(t: TestContext, port: number): Promise<pg.Client> {
  const client = new pg.Client({
    host: 'localhost',
    port,
    user: 'postgres',
    database: 'postgres',
    connectionTimeoutMillis: 10_000,
  });
  client.on('error', () => {});
  t.after(() => client.end().catch(() => {}));
  await client.connect();
  return client;
}

async function serverHost(client: pg.Client): Promise<string> {
  const result = await client.query('SELECT host(inet_server_addr()) AS host');
  return result.rows[0].host;
}

/** Calls `check` until it resolves true, at most every 50 ms; fails naming `what` at the deadline. */
async function pollAsync(what: string, timeout: number, check: () => Promise<boolean>) {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Writes at least `size` bytes of COPY text data to `file`: one column, lines of base64 from
 * random bytes (no tab, backslash or CR to be escaped, so COPY TO gives back the same bytes).
 */
function writeCopyData(file: string, size: number): { bytes: number; sha256: string } {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let bytes = 0;
  while (bytes < size) {
    const text = randomBytes(3 * 1024 * 32).toString('base64');
    const lines = text.match(/.{1,128}/g)?.join('\n') ?? '';
    const chunk = Buffer.from(`${lines}\n`);
    chunks.push(chunk);
    hash.update(chunk);
    bytes += chunk.length;
  }
  writeFileSync(file, Buffer.concat(chunks));
  return { bytes, sha256: hash.digest('hex') };
}

const STREAM_TIMEOUT = 30_000;
/** Why a streamed run was killed: psql ends in seconds, so linkfwd outlived its app. */
const STUCK = `killed after ${STREAM_TIMEOUT / 1000} s: linkfwd or psql never exited`;

interface Streamed {
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  bytes: number;
  sha256: string;
}

/** Runs linkfwd with `stdin` (an fd, or 'ignore'), hashing its stdout as it streams. */
function runStreamed(args: string[], env: Record<string, string>, stdin: number | 'ignore') {
  const { file, args: prefix } = linkfwdCommand();
  const child = spawn(file, [...prefix, ...args], {
    env,
    stdio: [stdin, 'pipe', 'pipe'],
    timeout: STREAM_TIMEOUT,
    killSignal: 'SIGKILL',
  });
  const hash = createHash('sha256');
  let bytes = 0;
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    hash.update(chunk);
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return once(child, 'close').then(
    ([status, signal]): Streamed => ({ status, signal, stderr, bytes, sha256: hash.digest('hex') }),
  );
}
