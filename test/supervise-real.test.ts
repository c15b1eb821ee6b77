import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { superviseChild } from '../src/supervise/child.js';
import { type ChildOutcome, exitStatusOf } from '../src/supervise/exit-status.js';
import { installSignalRouter } from '../src/supervise/signal-router.js';
import { listenedSignals, signalAliases, signalNumber } from '../src/supervise/signals.js';
import { FakeProcess } from './helpers/fake-process.js';
import {
  canSignal,
  collectLines,
  FIXTURES,
  fixture,
  LINE_WAIT,
  waitForLineIn,
} from './helpers/process.js';
import { waitFor } from './helpers/sockets.js';

const NODE = process.execPath;
/** Real processes: generous, for a loaded 2-CPU CI machine; the deadlines inside are shorter. */
const REAL = { timeout: 20_000 };

const LISTENED = listenedSignals();

// The tests below are independent processes: run them side by side.
describe('superviseChild with real processes', { concurrency: 4 }, () => {
  /** Supervises `[command, ...args]` with piped stdout and a router on a fake process. */
  function supervise(t: TestContext, [command = '', ...args]: string[], env = process.env) {
    const proc = new FakeProcess();
    const router = installSignalRouter(proc, { isForeground: () => false });
    const supervised = superviseChild({
      command,
      args,
      env,
      router,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    t.after(() => {
      router.dispose();
      const { child } = supervised;
      if (child.pid !== undefined && child.exitCode === null) child.kill('SIGKILL');
    });
    const out =
      supervised.child.pid === undefined ? undefined : collectLines(supervised.child.stdout);
    return { proc, ...supervised, out };
  }

  let scratch = '';
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'linkfwd-supervisor-'));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  for (const code of [0, 1, 2, 42, 254, 255]) {
    test(`exit code ${code} passes through`, REAL, async (t) => {
      const { exited } = supervise(t, fixture('exit-with.mjs', String(code)));
      const outcome = await exited;
      assert.deepEqual(outcome, { kind: 'exited', code });
      assert.equal(exitStatusOf(outcome), code);
    });
  }

  const killedBy: [NodeJS.Signals, number][] = [
    ['SIGTERM', 143],
    ['SIGHUP', 129],
    ['SIGQUIT', 131],
    ['SIGUSR2', 128 + signalNumber('SIGUSR2')],
    ['SIGABRT', 134],
    ['SIGKILL', 137],
  ];
  for (const [signal, status] of killedBy) {
    test(`killed by ${signal} → ${status}`, REAL, async (t) => {
      // No core files from SIGQUIT/SIGABRT, whatever the machine's ulimit.
      const { child, exited, out } = supervise(t, [
        '/bin/sh',
        '-c',
        'ulimit -c 0; exec "$0" "$@"',
        ...fixture('forever.mjs'),
      ]);
      await waitForLineIn(out!.lines, 'ready');
      child.kill(signal);
      const outcome = await exited;
      assert.deepEqual(outcome, { kind: 'killed', signal });
      assert.equal(exitStatusOf(outcome), status);
    });
  }

  /** Makes a file in the scratch directory (`mode` set exactly, umask aside) and returns its path. */
  const file =
    (name: string, text: string, mode: number, suffix = '') =>
    async (dir: string) => {
      const path = join(dir, name);
      await writeFile(path, text);
      await chmod(path, mode);
      return join(path, suffix);
    };
  const directory = async (dir: string) => {
    const sub = join(dir, 'a-directory');
    await mkdir(sub, { recursive: true });
    return sub;
  };
  type Make = (dir: string) => Promise<string>;
  const cannotRun: [string, Make, string, number, string][] = [
    ['not found', async () => 'linkfwd-test-no-such-command', 'ENOENT', 127, 'command not found'],
    [
      'a script whose interpreter is missing',
      file('bad-interpreter', '#!/nonexistent/interpreter\n', 0o755),
      'ENOENT',
      127,
      'command not found',
    ],
    [
      'a file without execute permission',
      file('not-executable', '#!/bin/sh\nexit 0\n', 0o644),
      'EACCES',
      126,
      'permission denied',
    ],
    ['a directory', directory, 'EISDIR', 126, 'is a directory'],
    [
      'a path through a file (thrown by spawn)',
      file('plain-file', '', 0o644, 'app'),
      'ENOTDIR',
      126,
      'not a directory',
    ],
  ];
  for (const [name, make, errno, status, text] of cannotRun) {
    test(`${name} → ${status}`, REAL, async (t) => {
      const command = await make(scratch);
      const { child, exited } = supervise(t, [command]);
      const outcome = await exited;
      assert.equal(child.pid, undefined);
      assert.equal(outcome.kind, 'failed');
      const error = (outcome as Extract<ChildOutcome, { kind: 'failed' }>).error;
      assert.equal((error.cause as NodeJS.ErrnoException).code, errno);
      assert.equal(exitStatusOf(outcome), status);
      assert.equal(error.exitStatus, status);
      assert.equal(error.message, `cannot run ${JSON.stringify(command)}: ${text}`);
    });
  }

  test('finds the command on PATH and runs it through its #! line', REAL, async (t) => {
    const path = [FIXTURES, dirname(NODE), process.env.PATH].join(delimiter);
    const { exited } = supervise(t, ['exit-with.mjs', '3'], { PATH: path });
    assert.deepEqual(await exited, { kind: 'exited', code: 3 });
  });

  test('passes argv byte-exact', REAL, async (t) => {
    const args = ['', '--', '--help', '1e3', '0x10', '007', 'a b', ' ', 'ünï', '$HOME', '*', '"'];
    const { out, exited } = supervise(t, fixture('argv.mjs', ...args));
    await exited;
    const lines = await out!.ended;
    assert.deepEqual(JSON.parse(lines[0] ?? ''), args);
  });

  test('passes the environment exactly as given', REAL, async (t) => {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LINKFWD_TEST: 'yes', EMPTY: '' };
    const names = ['LINKFWD_TEST', 'EMPTY', 'HOME', 'DEBUG'];
    const { out, exited } = supervise(t, fixture('env.mjs', ...names), env);
    await exited;
    const lines = await out!.ended;
    assert.deepEqual(JSON.parse(lines[0] ?? ''), {
      LINKFWD_TEST: 'yes',
      EMPTY: '',
      HOME: null,
      DEBUG: null,
    });
  });

  test('runs the app in the current directory', REAL, async (t) => {
    const { out, exited } = supervise(t, [NODE, '-p', 'process.cwd()']);
    await exited;
    assert.deepEqual(await out!.ended, [process.cwd()]);
  });

  test(
    'resolves when the app exits, though a grandchild still holds its stdout',
    REAL,
    async (t) => {
      const { out, exited } = supervise(t, ['/bin/sh', '-c', 'sleep 30 & echo $!; exit 3']);
      await waitFor('the grandchild pid', () => out?.lines[0] !== undefined, LINE_WAIT);
      const grandchild = Number(out?.lines[0]);
      t.after(() => {
        if (canSignal(grandchild)) process.kill(grandchild, 'SIGKILL');
      });
      assert.deepEqual(await exited, { kind: 'exited', code: 3 });
      assert.ok(canSignal(grandchild), 'the grandchild outlives the app');
    },
  );

  test('the app receives each forwarded signal exactly once', REAL, async (t) => {
    const { proc, out, exited } = supervise(
      t,
      fixture('print-signals.mjs', '--exit-on-term', '7', '--lifetime', '20000'),
    );
    await waitForLineIn(out!.lines, 'ready');
    const order = LISTENED.filter((signal) => signal !== 'SIGTERM');
    for (const signal of order) {
      proc.emit(signal);
      // Aliases reach the router too (Node emits every name); they must not forward again.
      for (const alias of signalAliases(signal)) proc.emit(alias);
      await waitForLineIn(out!.lines, signal);
    }
    proc.emit('SIGTERM');
    assert.deepEqual(await exited, { kind: 'exited', code: 7 });
    assert.deepEqual(await out!.ended, ['ready', ...order, 'SIGTERM']);
  });

  test('a signal after the app exited is dropped quietly', REAL, async (t) => {
    const { proc, exited } = supervise(t, fixture('exit-with.mjs', '0'));
    await exited;
    assert.doesNotThrow(() => {
      for (const signal of LISTENED) proc.emit(signal);
    });
  });
});
