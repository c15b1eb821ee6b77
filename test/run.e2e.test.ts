import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FORWARDED_SIGNALS, TERMINAL_SIGNALS } from '../src/supervise/signals.js';
import { cleanEnv, linkfwdCommand, runCli } from './helpers/cli.js';
import { signalNumber } from './helpers/proc.js';
import { fixture, startLinkfwd, within } from './helpers/process.js';
import { dialError, echoServer, freePort, REMOTE, serve, waitFor } from './helpers/sockets.js';

describe('the app as linkfwd runs it', () => {
  test('argv reaches the app byte-exact, with and without --', async () => {
    const words = ['', '--', '1e3', '0x10', '007', '--help', '-f', 'a b', 'ünï', '$(id)', '*'];
    const [node, script] = fixture('argv.mjs');
    const plain = await runCli([node ?? '', script ?? '', ...words]);
    assert.equal(plain.status, 0, plain.stderr);
    assert.deepEqual(JSON.parse(plain.stdout), words);
    const dashed = await runCli(['-q', '--', node ?? '', script ?? '', ...words]);
    assert.deepEqual(JSON.parse(dashed.stdout), words);
  });

  for (const code of [0, 1, 2, 42, 126, 127, 254, 255]) {
    test(`exit code ${code} passes through`, async () => {
      const result = await runCli(fixture('exit-with.mjs', String(code)));
      assert.equal(result.status, code);
      assert.equal(result.stderr, '');
    });
  }

  const killers: NodeJS.Signals[] = [
    'SIGTERM',
    'SIGHUP',
    'SIGQUIT',
    'SIGUSR2',
    'SIGABRT',
    'SIGKILL',
  ];
  for (const name of killers) {
    test(`an app killed by ${name} gives 128+${signalNumber(name)}`, async () => {
      const result = await runCli(['sh', '-c', `kill -s ${name.slice(3)} $$`]);
      assert.equal(result.status, 128 + signalNumber(name));
      assert.equal(result.signal, null);
    });
  }

  test('command not found → 127, not executable → 126, a directory → 126', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'linkfwd-'));
    const file = join(dir, 'not-executable');
    writeFileSync(file, '#!/bin/sh\necho hi\n');
    chmodSync(file, 0o644);
    const cases: [string, number, RegExp][] = [
      ['no-such-command-linkfwd', 127, /cannot run "no-such-command-linkfwd": command not found/],
      [join(dir, 'missing'), 127, /command not found/],
      ['', 127, /cannot run "": command not found/],
      [file, 126, /permission denied/],
      [dir, 126, /is a directory/],
    ];
    for (const [command, status, message] of cases) {
      const result = await runCli([command]);
      assert.equal(result.status, status, command);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1);
    }
  });

  test('stdin passes through and stdout carries only the app output', async () => {
    const result = await runCli(
      ['-v', '-f', `${await freePort('127.0.0.1')}:${REMOTE}:9`, '--', 'cat'],
      {
        input: 'abc',
      },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'abc');
    assert.match(result.stderr, /linkfwd:supervisor/);
  });

  test('DEBUG=linkfwd:* alone gives the debug lines; other DEBUG namespaces give none', async () => {
    const port = await freePort('127.0.0.1');
    const args = ['-f', `${port}:${REMOTE}:9`, '--', 'true'];
    const debugging = await runCli(args, { env: cleanEnv({ DEBUG: 'linkfwd:*' }) });
    assert.equal(debugging.status, 0, debugging.stderr);
    assert.match(debugging.stderr, /linkfwd:forward .*listening on 127\.0\.0\.1:/);
    assert.match(debugging.stderr, /linkfwd:supervisor .*started true/);
    for (const env of [cleanEnv({ DEBUG: 'app:*' }), cleanEnv()]) {
      const quiet = await runCli(args, { env });
      assert.equal(quiet.status, 0, quiet.stderr);
      assert.equal(quiet.stderr, '', `DEBUG=${env.DEBUG}`);
    }
  });

  test('-v does not add DEBUG to the app environment; the rest passes unchanged', async () => {
    const env = cleanEnv({ KEEP: 'me', DB_PORT_1_UDP: 'udp://10.0.0.1:1' });
    const result = await runCli(['-v', ...fixture('env.mjs', 'DEBUG', 'KEEP', 'DB_PORT_1_UDP')], {
      env,
    });
    assert.deepEqual(JSON.parse(result.stdout), {
      DEBUG: null,
      KEEP: 'me',
      DB_PORT_1_UDP: 'udp://10.0.0.1:1',
    });
    const withDebug = await runCli(['-v', ...fixture('env.mjs', 'DEBUG')], {
      env: { ...env, DEBUG: 'app:*' },
    });
    assert.deepEqual(JSON.parse(withDebug.stdout), { DEBUG: 'app:*' });
  });

  test('each forwarded signal reaches the app exactly once while linkfwd keeps running', async (t) => {
    const linkfwd = startLinkfwd(t, fixture('print-signals.mjs', '--exit-on-term', '0'));
    await linkfwd.waitForStdout(/^ready$/m);
    // Every forwarded and terminal signal but SIGTERM, which ends the app.
    const signals = [...FORWARDED_SIGNALS, ...TERMINAL_SIGNALS].filter((s) => s !== 'SIGTERM');
    for (const signal of signals) {
      linkfwd.child.kill(signal as NodeJS.Signals);
      await linkfwd.waitForStdout(new RegExp(`^${signal}$`, 'm'));
    }
    linkfwd.child.kill('SIGTERM');
    const { status } = await within(linkfwd.exited, 10_000, 'exit after SIGTERM');
    assert.equal(status, 0);
    assert.deepEqual(linkfwd.lines(), ['ready', ...signals, 'SIGTERM']);
    assert.doesNotMatch(linkfwd.stderr, /Debugger listening|inspector/i);
  });

  test('SIGUSR1 opens no inspector', async (t) => {
    const linkfwd = startLinkfwd(t, fixture('print-signals.mjs', '--exit-on-term', '0'));
    await linkfwd.waitForStdout(/^ready$/m);
    linkfwd.child.kill('SIGUSR1');
    await linkfwd.waitForStdout(/^SIGUSR1$/m);
    assert.equal(await dialError(9229), 'ECONNREFUSED');
    linkfwd.child.kill('SIGTERM');
    assert.equal((await linkfwd.exited).status, 0);
    assert.equal(linkfwd.stderr, '');
  });

  test('a graceful shutdown can still use its forward; linkfwd exits with the app status; listeners close', async (t) => {
    const received: string[] = [];
    const upstream = await serve(t, (socket) => {
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => received.push(chunk));
      socket.on('end', () => socket.end('see you\n'));
    });
    const port = await freePort('127.0.0.1');
    const linkfwd = startLinkfwd(t, [
      '-f',
      `${port}:${REMOTE}:${upstream.port}`,
      '--',
      ...fixture('graceful-app.mjs', String(port), '3'),
    ]);
    await linkfwd.waitForStdout(/^ready$/m);
    linkfwd.child.kill('SIGTERM');
    const { status } = await within(linkfwd.exited, 10_000, 'exit after graceful shutdown');
    assert.equal(status, 3);
    assert.match(linkfwd.stdout, /^reply: see you$/m);
    assert.deepEqual(received.join(''), 'goodbye\n');
    assert.equal(await dialError(port), 'ECONNREFUSED');
    assert.equal(await dialError(port, '::1'), 'ECONNREFUSED');
  });

  test('linkfwd exits within a second of its app while an idle connection is held open', async (t) => {
    const upstream = await echoServer(t);
    const port = await freePort('127.0.0.1');
    const linkfwd = startLinkfwd(t, [
      '-f',
      `${port}:${REMOTE}:${upstream.port}`,
      '--',
      ...fixture('print-signals.mjs', '--exit-on-term', '0'),
    ]);
    await linkfwd.waitForStdout(/^ready$/m);
    const idle = connect({ host: '127.0.0.1', port });
    t.after(() => {
      idle.destroy();
    });
    idle.on('error', () => {});
    const idleClosed = new Promise((resolve) => idle.on('close', resolve));
    await once(idle, 'connect');
    await waitFor('upstream connection', () => upstream.sockets.size === 1);
    linkfwd.child.kill('SIGTERM');
    await linkfwd.waitForStdout(/^SIGTERM$/m);
    const appGone = Date.now();
    const { status, at } = await within(linkfwd.exited, 5000, 'linkfwd exit');
    assert.equal(status, 0);
    assert.ok(at - appGone < 1500, `linkfwd took ${at - appGone} ms after its app`);
    await within(idleClosed, 2000, 'the held connection closed');
  });

  test('an explicit port already taken → 125, the app never runs', async (t) => {
    const taken = createServer().listen({ host: '127.0.0.1', port: 0 });
    t.after(() => taken.close());
    await once(taken, 'listening');
    const { port } = taken.address() as { port: number };
    const marker = join(mkdtempSync(join(tmpdir(), 'linkfwd-')), 'ran');
    const result = await runCli(['-f', `${port}:${REMOTE}:1`, '--', 'touch', marker]);
    assert.equal(result.status, 125);
    assert.match(
      result.stderr,
      new RegExp(
        `^linkfwd: cannot listen on 127\\.0\\.0\\.1:${port}: address already in use \\(-f ${port}:${REMOTE}:1\\)\\n$`,
      ),
    );
    assert.equal(existsSync(marker), false);
  });

  test('--wait starts the app once a late upstream accepts', async (t) => {
    const upstreamPort = await freePort();
    const port = await freePort('127.0.0.1');
    const linkfwd = startLinkfwd(t, [
      '-v',
      '--wait',
      '--wait-timeout',
      '20s',
      '-f',
      `${port}:${REMOTE}:${upstreamPort}`,
      '--',
      ...fixture('argv.mjs', 'started'),
    ]);
    await linkfwd.waitForStderr(/waiting for 127\.0\.0\.2/);
    assert.equal(linkfwd.stdout, '');
    const late = createServer().listen({ host: REMOTE, port: upstreamPort });
    t.after(() => late.close());
    const { status } = await within(linkfwd.exited, 15_000, 'app run after the upstream appeared');
    assert.equal(status, 0);
    assert.equal(linkfwd.stdout, '["started"]\n');
  });

  test('--wait gives up at --wait-timeout: 125, the app never runs', async () => {
    const upstreamPort = await freePort();
    const port = await freePort('127.0.0.1');
    const started = Date.now();
    const result = await runCli([
      '--wait',
      '--wait-timeout',
      '1s',
      '-f',
      `${port}:${REMOTE}:${upstreamPort}`,
      '--',
      ...fixture('argv.mjs', 'started'),
    ]);
    assert.equal(result.status, 125);
    assert.equal(result.stdout, '');
    assert.match(
      result.stderr,
      new RegExp(
        `^linkfwd: gave up after 1s waiting for 127\\.0\\.0\\.2:${upstreamPort} \\(-f ${port}:127\\.0\\.0\\.2:${upstreamPort}\\): connection refused\\n$`,
      ),
    );
    assert.ok(Date.now() - started < 8000);
  });

  test('a SIGTERM before the app starts: 143, app never started', async (t) => {
    const upstreamPort = await freePort();
    const port = await freePort('127.0.0.1');
    const linkfwd = startLinkfwd(t, [
      '-v',
      '--wait',
      '-f',
      `${port}:${REMOTE}:${upstreamPort}`,
      '--',
      ...fixture('argv.mjs', 'started'),
    ]);
    await linkfwd.waitForStderr(/waiting for/);
    linkfwd.child.kill('SIGTERM');
    const { status } = await within(linkfwd.exited, 5000, 'exit on SIGTERM during --wait');
    assert.equal(status, 143);
    assert.equal(linkfwd.stdout, '');
  });
});

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
