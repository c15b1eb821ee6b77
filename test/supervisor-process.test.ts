import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, type TestContext, test } from 'node:test';
import {
  listenedSignals,
  signalAliases,
  signalNumber,
  TERMINAL_SIGNALS,
} from '../src/supervise/signals.js';
import { ROOT } from './helpers/cli.js';
import { canSignal, collectLines, FIXTURES, fixture, waitForLineIn } from './helpers/process.js';

const NODE = process.execPath;
const linux = process.platform === 'linux';
/** Real processes: generous, for a loaded 2-CPU CI machine; the deadlines inside are shorter. */
const REAL = { timeout: 20_000 };

const LISTENED = listenedSignals();

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
      waitForLineIn(out.lines, 'ready').catch((error: Error) => {
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
      await waitForLineIn(out.lines, signal);
      // Another name of the same signal is another delivery: one more line, not two.
      for (const alias of signalAliases(signal)) {
        process.kill(pid, alias);
        sent.push(signal);
        await waitForLineIn(out.lines, signal, 2);
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
      if (supervisor > 0 && canSignal(supervisor)) process.kill(supervisor, 'SIGTERM');
      if (script.exitCode === null) process.kill(-script.pid!, 'SIGKILL');
    });
    await waitForLineIn(out.lines, 'ready');
    supervisor = Number(out.lines.find((l) => l.startsWith('supervisor '))?.slice(11));
    assert.ok(supervisor > 0);
    for (const signal of TERMINAL_SIGNALS) process.kill(supervisor, signal);
    // SIGSYS has the highest number: pending signals are delivered lowest first, so when
    // the app has seen it, the supervisor has handled the terminal signals too.
    process.kill(supervisor, 'SIGSYS');
    await waitForLineIn(out.lines, 'SIGSYS');
    process.kill(supervisor, 'SIGTERM');
    assert.deepEqual(await exit, [7, null]);
    const app = (await out.ended).filter((l) => l === 'ready' || l.startsWith('SIG'));
    assert.deepEqual(app, ['ready', 'SIGSYS', 'SIGTERM']);
  });
});
