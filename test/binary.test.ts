// The single executable (`npm run build:binary`), run as a user would: one file, no Node, no
// node_modules, no package.json beside it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type Arch, PINNED_NODE_VERSION } from '../scripts/node-runtime.js';
import { prepareBinary, REPORT_RUNTIME, reportedRuntime } from './helpers/binary.js';
import { binaryPath, cleanEnv, ROOT } from './helpers/cli.js';
import { loopbackForwardJson } from './helpers/plan-json.js';
import { startLinkfwd, within } from './helpers/process.js';
import { dial, echoServer, freePort, observe, REMOTE } from './helpers/sockets.js';

const VERSION = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

/**
 * The binary to test: `LINKFWD_BINARY` as given, or `build/linkfwd`, built first when missing or
 * older than its sources. Skips (outside CI only) when it cannot be built here.
 */
function prepare(): { file: string } | { skip: string } {
  if (process.env.LINKFWD_BINARY) {
    assert.ok(existsSync(binaryPath()), `LINKFWD_BINARY=${binaryPath()} does not exist`);
    return { file: binaryPath() };
  }
  return prepareBinary(binaryPath(), process.arch as Arch);
}

const prepared = prepare();
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

  test('is the pinned Node 24 from the npm package, whatever Node runs the tests', {
    timeout: 20_000,
  }, () => {
    // The runtime inside the binary says what it is: a preload through NODE_OPTIONS, which a
    // single executable honours, runs in it before linkfwd and prints process.version.
    const result = runBinary(['--version'], {
      env: cleanEnv({ NODE_OPTIONS: `--require ${REPORT_RUNTIME}` }),
    });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, `${VERSION}\n`);
    const runtime = reportedRuntime(result.stderr);
    console.log(`# ${linkfwd}: Node ${runtime.node} ${runtime.platform}-${runtime.arch}`);
    assert.deepEqual(runtime, {
      node: `v${PINNED_NODE_VERSION}`,
      arch: process.arch,
      platform: process.platform,
      sea: true,
    });
    assert.match(runtime.node, /^v24\./);
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
        loopbackForwardJson(5432, '172.17.0.5:5432', 'DB_PORT_5432_TCP', { explicit: false }),
        loopbackForwardJson(6380, 'cache:6379', '6380:cache:6379'),
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
