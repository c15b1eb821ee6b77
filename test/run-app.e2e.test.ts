// The app as linkfwd runs it: its argv, environment, stdio and exit status.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cleanEnv, runCli } from './helpers/cli.js';
import { signalNumber } from './helpers/proc.js';
import { fixture } from './helpers/process.js';
import { freePort, REMOTE } from './helpers/sockets.js';

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
});
