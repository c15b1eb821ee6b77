// Forwarding threads in linkfwd as a user runs it: the open-file budget the threads share, the
// exit status, signals and log lines.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { noThreads as skip } from './forwarder-matrix.js';
import { runCli, startForwardOnly } from './helpers/cli.js';
import { connectAll } from './helpers/clients.js';
import { dialObserved, freePort, REMOTE, serve, waitFor } from './helpers/sockets.js';

describe('forwarding threads, shared open-file budget', { skip }, () => {
  test('the connections of every thread count against the one limit, warned once', async (t) => {
    // linkfwd as a user runs it, with a low `ulimit -n`: per-thread budgets would each admit
    // the whole room, and the process would run out of descriptors (accept and dial failures).
    const target = await serve(t);
    const port = await freePort('127.0.0.1');
    const forward = ['--threads', '2', '-f', `${port}:${REMOTE}:${target.port}`];
    const { child: linkfwd, stderr } = await startForwardOnly(t, forward, 90);
    const { clients, ends } = dialObserved(t, port, 80);
    await waitFor('connections upstream or reset', () => target.sockets.size > 0, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const taken = target.sockets.size;
    for (const client of clients) client.destroy();
    const reset = (await Promise.all(ends)).filter((o) => o.error === 'ECONNRESET').length;
    linkfwd.kill('SIGTERM');
    await once(linkfwd, 'exit');
    const lines = stderr()
      .trim()
      .split('\n')
      .filter((line) => !line.includes('forwarding '));
    assert.deepEqual(lines, [
      `linkfwd: -f ${port}:${REMOTE}:${target.port}: too many open files (limit 90), new clients are reset`,
    ]);
    assert.ok(taken > 0 && taken < 40, `${taken} connections upstream`);
    assert.ok(reset >= 80 - taken, `${reset} clients reset`);
  });
});

describe('forwarding threads, as a user runs linkfwd', { skip }, () => {
  test('the app exit status passes through; no thread keeps linkfwd alive', async (t) => {
    const target = await serve(t);
    const port = await freePort('127.0.0.1');
    const started = Date.now();
    const result = await runCli([
      '--threads',
      '3',
      '-f',
      `${port}:${REMOTE}:${target.port}`,
      '--',
      process.execPath,
      '-e',
      'process.exit(42)',
    ]);
    assert.equal(result.status, 42, result.stderr);
    assert.equal(result.stderr, '');
    assert.ok(Date.now() - started < 15_000);
  });

  test('SIGTERM in forward-only mode resets the connections of every thread, exits 0', async (t) => {
    const target = await serve(t);
    const port = await freePort('127.0.0.1');
    const { child } = await startForwardOnly(t, [
      '--threads',
      '3',
      '-f',
      `${port}:${REMOTE}:${target.port}`,
    ]);
    const { ends } = await connectAll(t, port, 24);
    await waitFor('24 connections upstream', () => target.sockets.size === 24);
    child.kill('SIGTERM');
    const [status] = await once(child, 'exit');
    assert.equal(status, 0);
    for (const outcome of await Promise.all(ends)) assert.equal(outcome.error, 'ECONNRESET');
  });

  test('-v: lines from every thread reach stderr whole, the warning once', async (t) => {
    const target = await serve(t);
    const port = await freePort('127.0.0.1');
    const forward = `${port}:${REMOTE}:${target.port}`;
    const args = ['-v', '--threads', '2', '--max-connections', '1', '-f', forward];
    const { child, stderr } = await startForwardOnly(t, args);
    const { ends } = dialObserved(t, port, 40);
    // One client is taken, 39 reset: the first reset is a warning, the others debug lines.
    const full = '1 connections open, new clients are reset';
    const count = () =>
      stderr()
        .split('\n')
        .filter((line) => line.includes(full)).length;
    await waitFor('39 lines about the reset clients', () => count() === 39, 10_000);
    child.kill('SIGTERM');
    await once(child, 'exit');
    await Promise.all(ends);
    const lines = stderr().trimEnd().split('\n');
    // Each line is a warning or a debug line (ISO time, channel), never two mixed.
    for (const line of lines) assert.match(line, /^(linkfwd: |\S+Z linkfwd:\w+ )/, line);
    assert.equal(lines.filter((line) => line === `linkfwd: -f ${forward}: ${full}`).length, 1);
    assert.equal(count(), 39);
    assert.ok(lines.some((line) => line.includes('linkfwd:forward 2 forwarding threads')));
  });
});
