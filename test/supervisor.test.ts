import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { type ChildOptions, superviseChild } from '../src/supervise/child.js';
import { type ChildOutcome, exitStatusOf } from '../src/supervise/exit-status.js';
import {
  installSignalRouter,
  type ProcessLike,
  type SignalRouter,
} from '../src/supervise/signal-router.js';
import {
  listenedSignals,
  signalAliases,
  signalNumber,
  TERMINAL_SIGNALS,
  UNHANDLED_SIGNALS,
} from '../src/supervise/signals.js';
import { ROOT } from './helpers/cli.js';
import { FIXTURES, fixture } from './helpers/process.js';
import { waitFor } from './helpers/sockets.js';

const NODE = process.execPath;
const linux = process.platform === 'linux';
const T = { timeout: 10_000 };
/** Real processes: generous, for a loaded 2-CPU CI machine; the deadlines inside are shorter. */
const REAL = { timeout: 20_000 };
/** How long to wait for a real process to say something. */
const WAIT = 8_000;

const LISTENED = listenedSignals();
const ALIASES = [...new Set(LISTENED.flatMap(signalAliases))].filter((a) => !LISTENED.includes(a));

/** A stand-in for `process`: signals are `emit`ted, never sent. */
class FakeProcess extends EventEmitter implements ProcessLike {
  pid = 4242;
  kill(): boolean {
    throw new Error('the router must not signal linkfwd itself');
  }
  listenerTotal(): number {
    return this.eventNames().reduce((sum, name) => sum + this.listenerCount(name), 0);
  }
}

/** A stand-in child; `pid` null: one that failed to spawn. */
function fakeChild(pid: number | null = 1000) {
  const sent: NodeJS.Signals[] = [];
  const child = Object.assign(new EventEmitter(), {
    pid: pid ?? undefined,
    kill(signal: NodeJS.Signals) {
      sent.push(signal);
      return true;
    },
  }) as unknown as ChildProcess;
  return { child, sent };
}

/** A router on a fake process with a fake child attached. */
function routerWithChild(
  isForeground: (pid: number) => boolean = () => false,
  pid: number | null = 1000,
) {
  const proc = new FakeProcess();
  const router = installSignalRouter(proc, { isForeground });
  const { child, sent } = fakeChild(pid);
  router.attach(child);
  return { proc, router, child, sent };
}

/** Waits until `lines` holds `line` (`count` times). */
function waitForLine(lines: string[], line: string, count = 1): Promise<void> {
  return waitFor(
    `${count} × ${line} in ${JSON.stringify(lines)}`,
    () => lines.filter((l) => l === line).length >= count,
    WAIT,
  );
}

/** Collects a stream's lines as they arrive (a pty's `\r\n` too); `ended` once it closes. */
function collectLines(stream: NodeJS.ReadableStream | null | undefined) {
  assert.ok(stream, 'a piped stream');
  const lines: string[] = [];
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (rest + chunk).split(/\r?\n/);
    rest = parts.pop() ?? '';
    lines.push(...parts);
  });
  const ended = once(stream, 'end').then(() => lines);
  return { lines, ended };
}

function isAlive(pid: number): boolean {
  // kill(0) and kill(-1) would reach the test runner's own group.
  assert.ok(Number.isInteger(pid) && pid > 1, `a pid: ${pid}`);
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('installSignalRouter with a fake process', () => {
  test('listens for every forwarded and terminal signal and their aliases, nothing else', T, () => {
    const proc = new FakeProcess();
    const router = installSignalRouter(proc);
    const names = proc.eventNames() as string[];
    assert.deepEqual([...names].sort(), [...LISTENED, ...ALIASES].sort());
    for (const name of names) assert.equal(proc.listenerCount(name), 1, name);
    for (const signal of [...UNHANDLED_SIGNALS, 'SIGSTKFLT']) {
      assert.equal(proc.listenerCount(signal), 0, signal);
    }
    assert.ok(names.includes('SIGUSR1'), 'SIGUSR1, or Node opens its inspector');
    if (linux) assert.deepEqual([...ALIASES].sort(), ['SIGIOT', 'SIGPOLL']);
    router.dispose();
  });

  test('forwards each signal to the child once per delivery', T, () => {
    const { proc, router, sent } = routerWithChild();
    for (const signal of LISTENED) proc.emit(signal);
    proc.emit('SIGUSR2');
    proc.emit('SIGUSR2');
    assert.deepEqual(sent, [...LISTENED, 'SIGUSR2', 'SIGUSR2']);
    router.dispose();
  });

  test('alias names are listened for but forward nothing', T, () => {
    const { proc, router, sent } = routerWithChild();
    for (const alias of ALIASES) proc.emit(alias);
    assert.deepEqual(sent, []);
    router.dispose();
  });

  test('terminal signals are skipped while the child is in the foreground', T, () => {
    let foreground = true;
    const asked: number[] = [];
    const isForeground = (pid: number) => {
      asked.push(pid);
      return foreground;
    };
    const { proc, router, sent } = routerWithChild(isForeground, 777);
    for (const signal of TERMINAL_SIGNALS) proc.emit(signal);
    proc.emit('SIGTERM');
    assert.deepEqual(sent, ['SIGTERM'], 'only SIGTERM while in the foreground');
    assert.deepEqual(new Set(asked), new Set([777, proc.pid]), 'the app and linkfwd');
    foreground = false;
    for (const signal of TERMINAL_SIGNALS) proc.emit(signal);
    assert.deepEqual(sent, ['SIGTERM', ...TERMINAL_SIGNALS]);
    router.dispose();
  });

  test('terminal signals are forwarded when only the app is in the foreground', T, () => {
    // The app made itself the foreground job (a shell does): a key typed on the terminal
    // cannot have reached linkfwd, so what linkfwd receives was sent to it alone.
    const proc = new FakeProcess();
    const router = installSignalRouter(proc, { isForeground: (pid) => pid === 777 });
    const { child, sent } = fakeChild(777);
    router.attach(child);
    for (const signal of TERMINAL_SIGNALS) proc.emit(signal);
    assert.deepEqual(sent, [...TERMINAL_SIGNALS]);
    router.dispose();
  });

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    test(`before attach, ${signal} is recorded as the pending termination`, T, async () => {
      const proc = new FakeProcess();
      const router = installSignalRouter(proc);
      proc.emit('SIGUSR1');
      proc.emit('SIGQUIT');
      proc.emit('SIGWINCH');
      assert.equal(router.pendingTermination, undefined, 'other signals are ignored');
      proc.emit(signal);
      proc.emit(signal === 'SIGTERM' ? 'SIGHUP' : 'SIGTERM');
      assert.equal(router.pendingTermination, signal, 'the first one is kept');
      assert.equal(await router.terminated, signal);
      router.dispose();
    });
  }

  test('after attach, terminating signals are forwarded, not recorded', T, async () => {
    const { proc, router, sent } = routerWithChild();
    proc.emit('SIGTERM');
    proc.emit('SIGINT');
    assert.equal(router.pendingTermination, undefined);
    assert.deepEqual(sent, ['SIGTERM', 'SIGINT']);
    const settled = await Promise.race([router.terminated, Promise.resolve('pending')]);
    assert.equal(settled, 'pending');
    router.dispose();
  });

  test('a child whose kill() throws does not break signal handling', T, () => {
    const { proc, router, child } = routerWithChild();
    child.kill = () => {
      throw Object.assign(new Error('kill ESRCH'), { code: 'ESRCH' });
    };
    assert.doesNotThrow(() => {
      for (const signal of LISTENED) proc.emit(signal);
    });
    router.dispose();
  });

  test('a child that never started (no pid) gets no signals', T, () => {
    // Node's kill() on such a child may reach kill(0, sig): linkfwd's own process group.
    const { proc, router, sent } = routerWithChild(() => false, null);
    for (const signal of LISTENED) proc.emit(signal);
    assert.deepEqual(sent, []);
    router.dispose();
  });

  test('attaching a second child throws', T, () => {
    const proc = new FakeProcess();
    const router = installSignalRouter(proc);
    router.attach(fakeChild().child);
    assert.throws(() => router.attach(fakeChild().child));
    router.dispose();
  });

  test('dispose() removes every listener it added, and only those', T, () => {
    const proc = new FakeProcess();
    const mine = () => {};
    proc.on('SIGTERM', mine);
    const router = installSignalRouter(proc);
    assert.ok(proc.listenerTotal() > LISTENED.length);
    const { child, sent } = fakeChild();
    router.attach(child);
    router.dispose();
    router.dispose();
    assert.equal(proc.listenerTotal(), 1);
    assert.deepEqual(proc.listeners('SIGTERM'), [mine]);
    proc.emit('SIGTERM');
    assert.deepEqual(sent, []);
  });

  test('defaults to the real process, and leaves it as it found it', T, () => {
    const names = [...LISTENED, ...ALIASES];
    const before = names.map((name) => process.listenerCount(name));
    const router = installSignalRouter();
    assert.deepEqual(
      names.map((name) => process.listenerCount(name)),
      before.map((count) => count + 1),
    );
    router.dispose();
    assert.deepEqual(
      names.map((name) => process.listenerCount(name)),
      before,
    );
  });
});

describe('superviseChild with a fake spawn', () => {
  function fakeSpawn(child: ChildProcess | (() => never)) {
    const calls: unknown[][] = [];
    const spawnFn = ((...args: unknown[]) => {
      calls.push(args);
      return typeof child === 'function' ? child() : child;
    }) as unknown as NonNullable<ChildOptions['spawn']>;
    return { spawnFn, calls };
  }

  /** `app` with no arguments and an empty environment, spawned as `child`. */
  function superviseApp(
    child: ChildProcess,
    router: SignalRouter,
    extra: Partial<ChildOptions> = {},
  ) {
    return superviseChild({
      command: 'app',
      args: [],
      env: {},
      router,
      spawn: fakeSpawn(child).spawnFn,
      ...extra,
    });
  }

  test('spawns once with inherited stdio, no shell, not detached, env as given', T, async () => {
    const { child } = fakeChild();
    const { spawnFn, calls } = fakeSpawn(child);
    const env = { PATH: '/bin', ONLY: 'this' };
    const args = ['', '--', '--help', '007'];
    const router = installSignalRouter(new FakeProcess());
    const supervised = superviseChild({ command: 'app', args, env, router, spawn: spawnFn });
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0], [
      'app',
      args,
      { stdio: 'inherit', shell: false, detached: false, env },
    ]);
    assert.equal((calls[0] as [string, string[], { env: unknown }])[2].env, env, 'not a copy');
    assert.equal(supervised.child, child);
    child.emit('exit', 3, null);
    assert.deepEqual(await supervised.exited, { kind: 'exited', code: 3 });
    router.dispose();
  });

  test("resolves on 'exit' without waiting for 'close'", T, async () => {
    const { child } = fakeChild();
    const router = installSignalRouter(new FakeProcess());
    const { exited } = superviseApp(child, router);
    child.emit('exit', null, 'SIGKILL');
    assert.deepEqual(await exited, { kind: 'killed', signal: 'SIGKILL' });
    router.dispose();
  });

  test('attaches the child to the router', T, async () => {
    const proc = new FakeProcess();
    const router = installSignalRouter(proc, { isForeground: () => false });
    const { child, sent } = fakeChild();
    const { exited } = superviseApp(child, router);
    proc.emit('SIGHUP');
    assert.deepEqual(sent, ['SIGHUP']);
    assert.equal(router.pendingTermination, undefined);
    child.emit('exit', 0, null);
    await exited;
    router.dispose();
  });

  test("an 'error' without a pid is a spawn failure", T, async () => {
    const { child } = fakeChild(null);
    const router = installSignalRouter(new FakeProcess());
    const { exited } = superviseApp(child, router);
    const error = Object.assign(new Error('spawn app ENOENT'), { code: 'ENOENT' });
    child.emit('error', error);
    const outcome = await exited;
    assert.equal(outcome.kind, 'failed');
    assert.equal(outcome.kind === 'failed' && outcome.error.code, 'ERR_LINKFWD_COMMAND_NOT_FOUND');
    assert.equal(outcome.kind === 'failed' && outcome.error.cause, error);
    router.dispose();
  });

  test("an 'error' with a pid (a failed kill) is a warning, not the end", T, async () => {
    const { child } = fakeChild(1234);
    const warnings: string[] = [];
    const router = installSignalRouter(new FakeProcess());
    const { exited } = superviseApp(child, router, {
      logger: { warn: (m) => warnings.push(m), error: () => {} },
    });
    child.emit('error', Object.assign(new Error('kill EPERM'), { code: 'EPERM' }));
    assert.deepEqual(warnings, ['cannot send a signal to the app: EPERM']);
    child.emit('exit', 0, null);
    assert.deepEqual(await exited, { kind: 'exited', code: 0 });
    router.dispose();
  });

  test('a spawn that throws resolves with the error; the child has no pid', T, async () => {
    const error = Object.assign(new Error('spawn /x/y ENOTDIR'), { code: 'ENOTDIR' });
    const proc = new FakeProcess();
    const router = installSignalRouter(proc);
    const supervised = superviseChild({
      command: '/x/y',
      args: [],
      env: {},
      router,
      spawn: fakeSpawn(() => {
        throw error;
      }).spawnFn,
    });
    assert.equal(supervised.child.pid, undefined);
    // Signal 0 only probes: a real never-spawned ChildProcess would probe kill(0, 0) and say yes.
    assert.equal(supervised.child.kill(0), false, 'kill() on the stand-in reaches nobody');
    const outcome = await supervised.exited;
    assert.equal(
      outcome.kind === 'failed' && outcome.error.code,
      'ERR_LINKFWD_COMMAND_NOT_EXECUTABLE',
    );
    assert.equal(outcome.kind === 'failed' && outcome.error.cause, error);
    assert.doesNotThrow(() => proc.emit('SIGTERM'));
    router.dispose();
  });

  test('holds a last-gasp hook (signal-exit) only while the app runs', T, async () => {
    // signal-exit listens on the real process while it has a hook; SIGHUP is one of its signals.
    const before = process.listenerCount('SIGHUP');
    const { child, sent } = fakeChild(1234);
    const router = installSignalRouter(new FakeProcess());
    const { exited } = superviseApp(child, router);
    assert.equal(process.listenerCount('SIGHUP'), before + 1);
    child.emit('exit', 0, null);
    await exited;
    assert.equal(process.listenerCount('SIGHUP'), before);
    assert.deepEqual(sent, []);
    router.dispose();
  });
});

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
      await waitForLine(out!.lines, 'ready');
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
      await waitFor('the grandchild pid', () => out?.lines[0] !== undefined, WAIT);
      const grandchild = Number(out?.lines[0]);
      t.after(() => {
        if (isAlive(grandchild)) process.kill(grandchild, 'SIGKILL');
      });
      assert.deepEqual(await exited, { kind: 'exited', code: 3 });
      assert.ok(isAlive(grandchild), 'the grandchild outlives the app');
    },
  );

  test('the app receives each forwarded signal exactly once', REAL, async (t) => {
    const { proc, out, exited } = supervise(
      t,
      fixture('print-signals.mjs', '--exit-on-term', '7', '--lifetime', '20000'),
    );
    await waitForLine(out!.lines, 'ready');
    const order = LISTENED.filter((signal) => signal !== 'SIGTERM');
    for (const signal of order) {
      proc.emit(signal);
      // Aliases reach the router too (Node emits every name); they must not forward again.
      for (const alias of signalAliases(signal)) proc.emit(alias);
      await waitForLine(out!.lines, signal);
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

describe('supervising with the real process (test/fixtures/supervise.mjs)', {
  concurrency: 4,
}, () => {
  /**
   * Runs the supervise fixture in a new session (detached): it has no controlling terminal
   * whoever runs the tests, and its process group (it and the app) is killed afterwards.
   */
  function startSupervisor(t: TestContext, args: string[]) {
    const child = spawn(NODE, ['--import', 'tsx', `${FIXTURES}supervise.mjs`, ...args], {
      cwd: ROOT,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    t.after(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    });
    const out = collectLines(child.stdout);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exit = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const ready = () =>
      waitForLine(out.lines, 'ready').catch((error: Error) => {
        throw new Error(`${error.message}; stderr: ${stderr}`);
      });
    return { child, out, exit, ready };
  }
  const printSignals = fixture('print-signals.mjs', '--exit-on-term', '7', '--lifetime', '20000');

  test('each signal sent to the supervisor reaches the app exactly once', REAL, async (t) => {
    const { child, out, exit, ready } = startSupervisor(t, printSignals);
    await ready();
    const pid = child.pid!;
    const sent: NodeJS.Signals[] = [];
    for (const signal of LISTENED.filter((s) => s !== 'SIGTERM')) {
      process.kill(pid, signal);
      sent.push(signal);
      await waitForLine(out.lines, signal);
      // Another name of the same signal is another delivery: one more line, not two.
      for (const alias of signalAliases(signal)) {
        process.kill(pid, alias);
        sent.push(signal);
        await waitForLine(out.lines, signal, 2);
      }
    }
    process.kill(pid, 'SIGTERM');
    assert.deepEqual(await exit, [7, null]);
    assert.deepEqual(await out.ended, ['ready', ...sent, 'SIGTERM']);
  });

  test('the app killed by a forwarded signal: the supervisor exits 128+n', REAL, async (t) => {
    const { child, exit, ready } = startSupervisor(t, fixture('forever.mjs'));
    await ready();
    process.kill(child.pid!, 'SIGUSR2');
    assert.deepEqual(await exit, [128 + signalNumber('SIGUSR2'), null]);
  });

  test('the supervisor crashes: the app gets SIGTERM (signal-exit)', REAL, async (t) => {
    const { child, out, exit, ready } = startSupervisor(t, ['--crash-on-input', ...printSignals]);
    await ready();
    child.stdin.write('x');
    assert.deepEqual(await exit, [1, null]);
    assert.deepEqual(await out.ended, ['ready', 'SIGTERM']);
  });

  test('the supervisor killed by a signal it does not handle: the app gets SIGTERM', {
    ...REAL,
    skip: linux ? false : 'SIGSTKFLT is Linux-only',
  }, async (t) => {
    const { child, out, exit, ready } = startSupervisor(t, printSignals);
    await ready();
    process.kill(child.pid!, 'SIGSTKFLT');
    assert.deepEqual(await exit, [null, 'SIGSTKFLT']);
    assert.deepEqual(await out.ended, ['ready', 'SIGTERM']);
  });

  test('the app is the foreground job of a terminal: Ctrl-C signals are not sent twice', {
    ...REAL,
    skip: linux ? false : 'the terminal rule reads /proc: Linux only',
  }, async (t) => {
    // script(1) runs the supervisor as the foreground job of a fresh pseudo-terminal.
    const command = [NODE, '--import', 'tsx', `${FIXTURES}supervise.mjs`, ...printSignals].join(
      ' ',
    );
    const script = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const out = collectLines(script.stdout);
    const exit = once(script, 'exit');
    let supervisor = 0;
    t.after(() => {
      if (supervisor > 0 && isAlive(supervisor)) process.kill(supervisor, 'SIGTERM');
      if (script.exitCode === null) process.kill(-script.pid!, 'SIGKILL');
    });
    await waitForLine(out.lines, 'ready');
    supervisor = Number(out.lines.find((l) => l.startsWith('supervisor '))?.slice(11));
    assert.ok(supervisor > 0);
    for (const signal of TERMINAL_SIGNALS) process.kill(supervisor, signal);
    // SIGSYS has the highest number: pending signals are delivered lowest first, so when
    // the app has seen it, the supervisor has handled the terminal signals too.
    process.kill(supervisor, 'SIGSYS');
    await waitForLine(out.lines, 'SIGSYS');
    process.kill(supervisor, 'SIGTERM');
    assert.deepEqual(await exit, [7, null]);
    const app = (await out.ended).filter((l) => l === 'ready' || l.startsWith('SIG'));
    assert.deepEqual(app, ['ready', 'SIGSYS', 'SIGTERM']);
  });
});
