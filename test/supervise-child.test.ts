import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { describe, test } from 'node:test';
import { type ChildOptions, superviseChild } from '../src/supervise/child.js';
import { installSignalRouter, type SignalRouter } from '../src/supervise/signal-router.js';
import { FakeProcess, fakeChild } from './helpers/fake-process.js';

const T = { timeout: 10_000 };

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
