// The single executable (`npm run build:binary`), run as a user would: one file, no Node, no
// node_modules, no package.json beside it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { binaryPath, cleanEnv, ROOT } from './helpers/cli.js';
import { startLinkfwd, within } from './helpers/process.js';
import { dial, echoServer, freePort, observe, REMOTE } from './helpers/sockets.js';

const VERSION = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
/** scripts/build-binary.ts: this Node cannot make a single executable. */
const EXIT_CANNOT_BUILD = 3;

/** The newest modification time among the files the binary is built from. */
function newestSource(): number {
  const files = [
    join(ROOT, 'package.json'),
    ...['src', 'scripts'].flatMap((dir) =>
      readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' }).map((name) =>
        join(ROOT, dir, name),
      ),
    ),
  ];
  return Math.max(...files.map((file) => statSync(file).mtimeMs));
}

/**
 * The binary to test: `LINKFWD_BINARY` as given, or `build/linkfwd`, built first when missing or
 * older than its sources. Skips (outside CI only) when this Node cannot build one.
 */
function prepareBinary(): { file: string } | { skip: string } {
  if (process.env.LINKFWD_BINARY) {
    assert.ok(existsSync(binaryPath()), `LINKFWD_BINARY=${binaryPath()} does not exist`);
    return { file: binaryPath() };
  }
  const file = binaryPath();
  if (existsSync(file) && statSync(file).mtimeMs >= newestSource()) return { file };
  const build = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'scripts/build-binary.ts')],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 180_000,
    },
  );
  if (build.status === EXIT_CANNOT_BUILD && process.env.CI !== 'true') {
    return { skip: `cannot build the single executable here: ${build.stderr.trim()}` };
  }
  assert.equal(build.status, 0, `npm run build:binary failed:\n${build.stdout}\n${build.stderr}`);
  return { file };
}

const prepared = prepareBinary();
if ('skip' in prepared) console.log(`# skipping the single-executable tests: ${prepared.skip}`);
const linkfwd = 'file' in prepared ? prepared.file : '';

function runBinary(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; file?: string } = {},
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(options.file ?? linkfwd, args, {
    env: options.env ?? cleanEnv(),
    cwd: options.cwd ?? ROOT,
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('single executable', {
  skip: 'skip' in prepared ? prepared.skip : false,
  timeout: 60_000,
}, () => {
  test('--version prints the version injected at build time, and nothing on stderr', {
    timeout: 20_000,
  }, () => {
    const result = runBinary(['--version']);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, `${VERSION}\n`);
    // No "single executable applications is experimental" warning, no yargs complaint.
    assert.equal(result.stderr, '');
  });

  test('a V8 flag in NODE_OPTIONS (meant for the app) adds nothing to stderr', {
    timeout: 20_000,
  }, () => {
    // A code cache built into the binary would be rejected, with a warning, under such flags.
    const result = runBinary(['--version'], {
      env: cleanEnv({ NODE_OPTIONS: '--max-old-space-size=64' }),
    });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr, '');
  });

  test('--help exits 0 and shows the options, also in a locale yargs has files for', {
    timeout: 20_000,
  }, () => {
    for (const env of [cleanEnv(), cleanEnv({ LC_ALL: 'de_DE.UTF-8', LANG: 'de_DE.UTF-8' })]) {
      const result = runBinary(['--help'], { env });
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /--forward/);
      assert.match(result.stdout, /--print/);
      assert.equal(result.stderr, '');
    }
  });

  test('is one file: runs from an empty folder with no Node on PATH', { timeout: 30_000 }, (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'linkfwd-binary-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const copy = join(dir, 'linkfwd');
    copyFileSync(linkfwd, copy);
    const result = runBinary(['--version'], {
      file: copy,
      cwd: dir,
      env: { PATH: '/nonexistent' },
    });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, `${VERSION}\n`);
  });

  test('--print --json plans a -f spec and a link variable', { timeout: 20_000 }, () => {
    const result = runBinary(['--print', '--json', '-f', '6380:cache:6379'], {
      env: cleanEnv({ DB_PORT_5432_TCP: 'tcp://172.17.0.5:5432', DB_NAME: '/web/db' }),
    });
    assert.equal(result.status, 0, result.stderr);
    const plan = JSON.parse(result.stdout) as unknown;
    assert.deepEqual(plan, {
      forwards: [
        {
          listen: [
            { host: '127.0.0.1', port: 5432 },
            { host: '::1', port: 5432 },
          ],
          target: { host: '172.17.0.5', port: 5432 },
          protocol: 'tcp',
          origin: 'DB_PORT_5432_TCP',
          explicit: false,
        },
        {
          listen: [
            { host: '127.0.0.1', port: 6380 },
            { host: '::1', port: 6380 },
          ],
          target: { host: 'cache', port: 6379 },
          protocol: 'tcp',
          origin: '6380:cache:6379',
          explicit: true,
        },
      ],
      skipped: [],
    });
  });

  test('runs a command and exits with its status', { timeout: 20_000 }, () => {
    const result = runBinary(['--', process.execPath, '-e', 'process.exit(7)']);
    assert.equal(result.status, 7, result.stderr);
  });

  test('forward-only mode forwards a TCP round-trip and exits 0 on SIGTERM', {
    timeout: 30_000,
  }, async (t) => {
    const upstream = await echoServer(t, REMOTE);
    const port = await freePort('127.0.0.1');
    const running = startLinkfwd(t, ['-v', '-f', `127.0.0.1:${port}:${REMOTE}:${upstream.port}`], {
      command: { file: linkfwd, args: [] },
    });
    await running.waitForStderr(/listening on 127\.0\.0\.1/);
    const socket = dial(t, port, '127.0.0.1');
    const seen = observe(socket);
    socket.end('ping through the single executable\n');
    const outcome = await within(seen, 5000, 'the echo');
    assert.equal(outcome.head, 'ping through the single executable\n');
    assert.ok(outcome.ended);

    running.child.kill('SIGTERM');
    const { status, signal } = await within(running.exited, 5000, 'exit on SIGTERM');
    assert.deepEqual({ status, signal }, { status: 0, signal: null }, running.stderr);
    assert.equal(running.stdout, '');
  });
});
