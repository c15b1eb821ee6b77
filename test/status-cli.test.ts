import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cleanEnv, NPM_BIN, runCli, runProgram } from './helpers/cli.js';
import { echoServer, freePort, REMOTE } from './helpers/sockets.js';

/**
 * An app that asks linkfwd's status endpoint about itself: each route's status and body, or
 * the metric lines of `/metrics` that name linkfwd, as JSON on stdout.
 */
const SELF_PROBE = `
  const base = 'http://127.0.0.1:' + process.argv[1];
  const out = {};
  for (const path of ['/healthz', '/readyz', '/metrics', '/nope']) {
    const res = await fetch(base + path);
    const text = await res.text();
    out[path] = [res.status, path === '/metrics' ? text.split('\\n').filter((l) => l.startsWith('linkfwd_connections_accepted_total')) : text];
  }
  console.log(JSON.stringify(out));`;

/** Records the built-in modules linkfwd loaded, on stderr, when it exits. */
const RECORD_MODULES = `process.on('exit', () => require('node:fs').writeSync(2,
  'MODULES ' + JSON.stringify(process.moduleLoadList.filter((m) => m.startsWith('NativeModule '))) + '\\n'));`;

describe('--status as a pod runs it', () => {
  test('linkfwd --status 127.0.0.1:PORT -f ... -- app: the app sees the three routes', async (t) => {
    const echo = await echoServer(t);
    const port = await freePort('127.0.0.1');
    const listen = await freePort('127.0.0.1');
    const result = await runCli(
      [
        '--status',
        `127.0.0.1:${port}`,
        '-f',
        `127.0.0.1:${listen}:${REMOTE}:${echo.port}`,
        '--',
        process.execPath,
        '--input-type=module',
        '-e',
        SELF_PROBE,
        String(port),
      ],
      { timeout: 30_000 },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr, '');
    const answers = JSON.parse(result.stdout) as Record<string, [number, unknown]>;
    assert.deepEqual(answers['/healthz'], [200, 'ok\n']);
    assert.deepEqual(answers['/readyz'], [200, 'ok\n']);
    assert.deepEqual(answers['/metrics'], [
      200,
      [
        `linkfwd_connections_accepted_total{forward="127.0.0.1:${listen}:${REMOTE}:${echo.port}",listen="127.0.0.1:${listen}",target="${REMOTE}:${echo.port}"} 0`,
      ],
    ]);
    assert.deepEqual(answers['/nope'], [404, 'not found\n']);
  });

  test('LINKFWD_STATUS on a non-loopback address warns like a -f bind; a bad value is one line', async () => {
    const port = await freePort('127.0.0.1');
    const exposed = await runCli(['--', 'true'], {
      env: cleanEnv({ LINKFWD_STATUS: `0.0.0.0:${port}` }),
    });
    assert.equal(exposed.status, 0);
    assert.equal(
      exposed.stderr,
      `linkfwd: port ${port} is exposed beyond this host on 0.0.0.0 (--status)\n`,
    );
    const bad = await runCli(['--status', 'db:9400', '--', 'true']);
    assert.equal(bad.status, 125);
    assert.equal(
      bad.stderr,
      'linkfwd: --status: expected [ADDR:]PORT with an IP address (e.g. 127.0.0.1:9400), got "db:9400"\n',
    );
  });

  test("the status stage shares the CLI's modules: its errors are linkfwd's, its budget the forwards'", async (t) => {
    // In the npm bin the status stage is compiled from a string (scripts/bundle.ts); a copy of
    // its own of errors.ts or the open-file budget would show here.
    const echo = await echoServer(t);
    const [port, listen] = [await freePort('127.0.0.1'), await freePort('127.0.0.1')];
    const app = `
      import { connect } from 'node:net';
      const [status, listen] = process.argv.slice(1);
      const socket = connect(Number(listen), '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write('x');
      await new Promise((resolve) => socket.once('data', resolve));
      const text = await (await fetch('http://127.0.0.1:' + status + '/metrics')).text();
      console.log(text.split('\\n').filter((l) => l.startsWith('linkfwd_fd_budget')).join());
      socket.destroy();`;
    const forward = `127.0.0.1:${listen}:${REMOTE}:${echo.port}`;
    const args = ['--status', `127.0.0.1:${port}`, '-q', '-f', forward, '--'];
    const result = await runCli([
      ...args,
      process.execPath,
      '--input-type=module',
      '-e',
      app,
      String(port),
      String(listen),
    ]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'linkfwd_fd_budget_connections 1\n');
    // The status port taken: a LinkfwdError (one line, 125), not an internal error.
    const again = await runCli(['--status', `${REMOTE}:${echo.port}`, '--', 'true']);
    assert.equal(again.status, 125);
    assert.equal(
      again.stderr,
      `linkfwd: cannot listen on ${REMOTE}:${echo.port}: address already in use (--status)\n`,
    );
  });

  test('without --status neither node:http nor prom-client is loaded (and with it both are)', async (t) => {
    // The npm bin itself (the single executable runs the same bundle): a preload records.
    const dir = mkdtempSync(join(tmpdir(), 'linkfwd-status-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const preload = join(dir, 'record-modules.cjs');
    writeFileSync(preload, RECORD_MODULES);
    const listen = await freePort('127.0.0.1');
    const runs = [];
    for (const status of [[], ['--status', '127.0.0.1:0']]) {
      const args = ['--require', preload, NPM_BIN, ...status, '-q'];
      args.push('-f', `127.0.0.1:${listen}:${REMOTE}:1`, '--', 'true');
      runs.push(await runProgram(process.execPath, args));
    }
    const loaded = runs.map((run) => {
      assert.equal(run.status, 0, run.stderr);
      // One line per thread that ran the preload: the main thread, the status endpoint's.
      const lines = [...run.stderr.matchAll(/^MODULES (.*)$/gm)];
      assert.ok(lines.length > 0, run.stderr);
      return new Set(lines.flatMap((line) => JSON.parse(line[1] ?? '[]') as string[]));
    });
    // prom-client's own imports mark it: zlib (its push gateway) and v8 (heap metrics).
    for (const marker of ['NativeModule http', 'NativeModule zlib', 'NativeModule v8']) {
      assert.equal(loaded[0]?.has(marker), false, `${marker} without --status`);
      assert.equal(loaded[1]?.has(marker), true, `${marker} with --status`);
    }
  });
});
