// The single executable for the other Linux architecture (`npm run build:binary -- --arch
// arm64` on x64, `build/linkfwd-arm64`; x64 on arm64), run under qemu-user. Its blob is written
// by this machine's Node 24 and injected into the other architecture's Node 24: this proves the
// blob carries nothing specific to the architecture. Needs qemu-user and Debian's cross
// libraries (`.ci/run` installs them: qemu-user libc6-arm64-cross libstdc++6-arm64-cross).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type Arch, PINNED_NODE_VERSION, runPrefix } from '../scripts/node-runtime.js';
import { prepareBinary, REPORT_RUNTIME, reportedRuntime } from './helpers/binary.js';
import { cleanEnv, ROOT } from './helpers/cli.js';
import { startLinkfwd, within } from './helpers/process.js';
import { dial, echoServer, freePort, observe, REMOTE } from './helpers/sockets.js';

const VERSION = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
const ARCH: Arch = process.arch === 'arm64' ? 'x64' : 'arm64';
const FILE = join(ROOT, 'build', `linkfwd-${ARCH}`);

function prepare(): { prefix: string[] } | { skip: string } {
  if (process.platform !== 'linux') return { skip: 'cross-architecture builds are Linux only' };
  const prefix = runPrefix(ARCH);
  if (prefix === undefined) {
    const missing = `no qemu-user or ${ARCH} cross libraries to run a linux-${ARCH} binary`;
    assert.notEqual(process.env.CI, 'true', `${missing}: .ci/run installs them`);
    return { skip: missing };
  }
  const built = prepareBinary(FILE, ARCH);
  return 'skip' in built ? built : { prefix };
}

const prepared = prepare();
if ('skip' in prepared) console.log(`# skipping the linux-${ARCH} executable: ${prepared.skip}`);
const prefix = 'prefix' in prepared ? prepared.prefix : [];
const [qemu = FILE, ...qemuArgs] = [...prefix, FILE];

function runForeign(args: string[], env = cleanEnv()) {
  // Emulated, V8 starts in about a second on a free core; the machine may be busy.
  const result = spawnSync(qemu, [...qemuArgs, ...args], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.error !== undefined) throw result.error;
  return result;
}

describe(`single executable for linux-${ARCH} under qemu-user`, {
  skip: 'skip' in prepared ? prepared.skip : false,
  timeout: 180_000,
}, () => {
  test('--version prints the version and nothing on stderr', { timeout: 60_000 }, () => {
    const result = runForeign(['--version']);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, `${VERSION}\n`);
    assert.equal(result.stderr, '');
  });

  test(`is the pinned Node 24 built for ${ARCH}`, { timeout: 60_000 }, () => {
    const result = runForeign(
      ['--version'],
      cleanEnv({ NODE_OPTIONS: `--require ${REPORT_RUNTIME}` }),
    );
    assert.equal(result.status, 0, result.stderr);
    const runtime = reportedRuntime(result.stderr);
    console.log(`# ${FILE}: Node ${runtime.node} ${runtime.platform}-${runtime.arch}`);
    assert.deepEqual(runtime, {
      node: `v${PINNED_NODE_VERSION}`,
      arch: ARCH,
      platform: 'linux',
      sea: true,
    });
  });

  test('--print plans a -f spec and a link variable', { timeout: 60_000 }, () => {
    const result = runForeign(
      ['--print', '--json', '-f', '6380:cache:6379'],
      cleanEnv({ DB_PORT_5432_TCP: 'tcp://172.17.0.5:5432' }),
    );
    assert.equal(result.status, 0, result.stderr);
    const plan = JSON.parse(result.stdout) as { forwards: { origin: string }[] };
    assert.deepEqual(
      plan.forwards.map((forward) => forward.origin),
      ['DB_PORT_5432_TCP', '6380:cache:6379'],
    );
  });

  test('forwards a TCP round-trip and exits 0 on SIGTERM', { timeout: 90_000 }, async (t) => {
    const upstream = await echoServer(t, REMOTE);
    const port = await freePort('127.0.0.1');
    const running = startLinkfwd(t, ['-v', '-f', `127.0.0.1:${port}:${REMOTE}:${upstream.port}`], {
      command: { file: qemu, args: qemuArgs },
    });
    await running.waitForStderr(/listening on 127\.0\.0\.1/, 60_000);
    const socket = dial(t, port, '127.0.0.1');
    const seen = observe(socket);
    socket.end(`ping through the linux-${ARCH} executable\n`);
    const outcome = await within(seen, 20_000, 'the echo');
    assert.equal(outcome.head, `ping through the linux-${ARCH} executable\n`);
    assert.ok(outcome.ended);

    // qemu-user delivers the signal to the emulated program.
    running.child.kill('SIGTERM');
    const { status, signal } = await within(running.exited, 20_000, 'exit on SIGTERM');
    assert.deepEqual({ status, signal }, { status: 0, signal: null }, running.stderr);
  });
});
