import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { installSignalRouter } from '../src/supervise/signal-router.js';
import {
  listenedSignals,
  signalAliases,
  TERMINAL_SIGNALS,
  UNHANDLED_SIGNALS,
} from '../src/supervise/signals.js';
import { FakeProcess, fakeChild } from './helpers/fake-process.js';

const linux = process.platform === 'linux';
const T = { timeout: 10_000 };

const LISTENED = listenedSignals();
const ALIASES = [...new Set(LISTENED.flatMap(signalAliases))].filter((a) => !LISTENED.includes(a));

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
