// linkfwd run without an app (forward-only), as PID 1, and on a terminal.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { cleanEnv, linkfwdCommand } from './helpers/cli.js';
import { fixture, startLinkfwd, within } from './helpers/process.js';
import { dialError, echoServer, freePort, REMOTE } from './helpers/sockets.js';

describe('forward-only mode', () => {
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    test(`serves until ${signal}, then exits 0 with its ports free`, async (t) => {
      const upstream = await echoServer(t);
      const port = await freePort('127.0.0.1');
      const linkfwd = startLinkfwd(t, ['-v', '-f', `${port}:${REMOTE}:${upstream.port}`]);
      await linkfwd.waitForStderr(/listening on 127\.0\.0\.1/);
      for (const host of ['127.0.0.1', '::1']) {
        const socket = connect({ host, port });
        socket.setEncoding('utf8');
        socket.end(`hello over ${host}`);
        let echoed = '';
        socket.on('data', (chunk: string) => {
          echoed += chunk;
        });
        await once(socket, 'close');
        assert.equal(echoed, `hello over ${host}`);
      }
      linkfwd.child.kill('SIGUSR2'); // ignored in forward-only mode
      linkfwd.child.kill(signal);
      const { status } = await within(linkfwd.exited, 5000, `exit on ${signal}`);
      assert.equal(status, 0);
      assert.equal(linkfwd.stdout, '');
      assert.equal(await dialError(port), 'ECONNREFUSED');
    });
  }
});

describe('as PID 1', () => {
  const unshare = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;
  const why = unshare ? false : 'unshare --pid needs root (CI runs as root)';

  test('SIGTERM → 143 and an app exiting 7 → 7', { skip: why }, async (t) => {
    const { file, args } = linkfwdCommand();
    const pid1 = {
      file: 'unshare',
      args: ['--pid', '--fork', '--mount-proc', '--kill-child', file, ...args],
    };
    const seven = startLinkfwd(t, ['--', ...fixture('exit-with.mjs', '7')], { command: pid1 });
    assert.equal((await within(seven.exited, 10_000, 'pid 1 exit')).status, 7);

    const forever = startLinkfwd(t, ['--', 'sh', '-c', 'echo "pid $$"; exec sleep 30'], {
      command: pid1,
    });
    await forever.waitForStdout(/^pid \d+$/m);
    assert.ok(!/^pid 1$/m.test(forever.stdout), 'the app is not PID 1: linkfwd is');
    // unshare's forked child is linkfwd, PID 1 of the new namespace.
    const children = readFileSync(
      `/proc/${forever.child.pid}/task/${forever.child.pid}/children`,
      'utf8',
    ).trim();
    const linkfwdPid = Number(children.split(' ')[0]);
    const status = readFileSync(`/proc/${linkfwdPid}/status`, 'utf8');
    assert.match(status, /^NSpid:\s+\d+\s+1$/m);
    process.kill(linkfwdPid, 'SIGTERM');
    assert.equal((await within(forever.exited, 10_000, 'pid 1 exit on SIGTERM')).status, 143);
  });
});

describe('on a terminal', () => {
  test('Ctrl-C reaches the app exactly once', async () => {
    const { file, args } = linkfwdCommand();
    const result = spawnSync(
      'python3',
      [
        new URL('fixtures/pty-run.py', import.meta.url).pathname,
        file,
        ...args,
        ...fixture('print-signals.mjs', '--exit-on-term', '0'),
      ],
      // The test run's own LINKFWD_TARGET and friends are no linkfwd variables: linkfwd would
      // warn about them on the terminal.
      { encoding: 'utf8', timeout: 40_000, env: cleanEnv() },
    );
    assert.equal(result.status, 0, result.stderr);
    // The terminal echoes the keystroke as `^C` in front of the app's next line.
    const lines = result.stdout
      .replaceAll('^C', '')
      .split('\n')
      .filter((l) => l !== '');
    assert.deepEqual(lines, ['ready', 'SIGINT', 'SIGTERM', 'exit 0']);
  });
});
