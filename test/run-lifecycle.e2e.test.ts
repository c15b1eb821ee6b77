// The app as linkfwd runs it, from start to end: --wait and a taken port before it starts,
// the signals it is sent while it runs, its shutdown and linkfwd's exit after it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FORWARDED_SIGNALS, TERMINAL_SIGNALS } from '../src/supervise/signals.js';
import { runCli } from './helpers/cli.js';
import { fixture, startLinkfwd, within } from './helpers/process.js';
import { dialError, echoServer, freePort, REMOTE, serve, waitFor } from './helpers/sockets.js';

describe('the app as linkfwd runs it', () => {
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
