/**
 * What a new user meets first, run as a user runs linkfwd (the built bin, or the single
 * executable with LINKFWD_TARGET=binary): typos, silent modes, help, and the two promises about
 * what reaches the app.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cleanEnv, linkfwdCommand, runCli, runProgram } from './helpers/cli.js';
import { childPids, isAlive } from './helpers/proc.js';
import { fixture, startLinkfwd } from './helpers/process.js';
import { freePort, waitFor } from './helpers/sockets.js';

const T = { timeout: 30_000 };

/** Exactly one `linkfwd:` line on stderr, matching `pattern`. */
function oneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.split('\n').filter((line) => line !== '');
  assert.equal(lines.length, 1, `one line expected: ${JSON.stringify(stderr)}`);
  assert.match(lines[0] ?? '', pattern);
}

describe('mistakes are caught, with the fix named', () => {
  test('one -f is one spec: an empty or spaced spec is refused whole', T, async () => {
    const cases: [string, string][] = [
      ['', '""'],
      [',', '","'],
      ['5432:d b:5432', '"5432:d b:5432"'],
    ];
    for (const [spec, shown] of cases) {
      const result = await runCli(['-f', spec, '--', 'true']);
      assert.equal(result.status, 125, spec);
      oneLine(result.stderr, new RegExp(`^linkfwd: invalid forward ${shown}`));
    }
  });

  test('a bad spec in LINKFWD_FORWARD names the variable', T, async () => {
    const result = await runCli(['--', 'true'], { env: cleanEnv({ LINKFWD_FORWARD: '5432:db' }) });
    assert.equal(result.status, 125);
    oneLine(result.stderr, /^linkfwd: LINKFWD_FORWARD: invalid forward "5432:db"/);
  });

  test('an unknown flag gets a suggestion', T, async () => {
    const result = await runCli(['--forwrd', '1:a:1', '--', 'true']);
    assert.equal(result.status, 125);
    oneLine(result.stderr, /Unknown argument: forwrd \(did you mean --forward\?\)/);
  });

  test('unknown LINKFWD_ variables warn once, with the closest name', T, async () => {
    const env = cleanEnv({ LINKFWD_FORWRD: '1:a:1', LINKFWD_PRINT: '1' });
    const result = await runCli(['--', 'true'], { env });
    assert.equal(result.status, 0);
    assert.match(
      result.stderr,
      /^linkfwd: LINKFWD_FORWRD is not a linkfwd variable \(did you mean LINKFWD_FORWARD\?\)$/m,
    );
    assert.match(result.stderr, /^linkfwd: LINKFWD_PRINT is not read: --print has no variable$/m);
    const quiet = await runCli(['-q', '--', 'true'], { env });
    assert.equal(quiet.stderr, '');
  });

  test('a bad variable that a flag overrides is a warning, not a failure', T, async () => {
    const env = cleanEnv({ LINKFWD_CONNECT_TIMEOUT: 'soon' });
    const overridden = await runCli(['--connect-timeout', '1s', '--', 'true'], { env });
    assert.equal(overridden.status, 0);
    oneLine(
      overridden.stderr,
      /LINKFWD_CONNECT_TIMEOUT: invalid duration "soon".*ignored: --connect-timeout is given/,
    );
    const alone = await runCli(['--', 'true'], { env });
    assert.equal(alone.status, 125);
  });

  test(
    '--only naming an alias without variables stops the start, unless --allow-missing',
    T,
    async () => {
      const stopped = await runCli(['--only', 'nosuch', '--', 'true']);
      assert.equal(stopped.status, 125);
      oneLine(
        stopped.stderr,
        /^linkfwd: --only NOSUCH: no link variables for this alias \(--allow-missing/,
      );
      const allowed = await runCli(['--only', 'nosuch', '--allow-missing', '--', 'true']);
      assert.equal(allowed.status, 0);
      oneLine(allowed.stderr, /^linkfwd: --only NOSUCH: no link variables for this alias$/);
    },
  );

  test('two --bind addresses of which one covers the other are caught in the plan', T, async () => {
    const port = await freePort('127.0.0.1');
    const result = await runCli([
      '--bind',
      '127.0.0.1',
      '--bind',
      '0.0.0.0',
      '-f',
      `${port}:127.0.0.2:1`,
      '--',
      'true',
    ]);
    assert.equal(result.status, 125);
    // Before it, the warning that 0.0.0.0 exposes the port; no "address already in use".
    assert.match(
      result.stderr,
      /^linkfwd: --bind 0\.0\.0\.0 and --bind 127\.0\.0\.1 overlap: .*\n$/m,
    );
    assert.doesNotMatch(result.stderr, /already in use/);
  });

  test('a port below 1024 without the right says what to do', T, async (t) => {
    const start = readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8');
    if (Number(start) <= 80) {
      t.skip(`net.ipv4.ip_unprivileged_port_start is ${start.trim()}: anyone may bind port 80`);
      return;
    }
    const { file, args } = linkfwdCommand();
    // As root, linkfwd runs as nobody (util-linux setpriv), which may not bind below 1024.
    const asUser =
      process.getuid?.() === 0
        ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', file, ...args]
        : [file, ...args];
    const [program = '', ...rest] = asUser;
    const result = await runProgram(program, [...rest, '-f', '80:127.0.0.2:1', '--', 'true']);
    assert.equal(result.status, 125);
    oneLine(result.stderr, /permission denied: ports below 1024 need root or CAP_NET_BIND_SERVICE/);
  });

  test('the --wait timeout says why each target is down', T, async () => {
    const [port, down] = [await freePort('127.0.0.1'), await freePort('127.0.0.2')];
    const spec = `${port}:127.0.0.2:${down}`;
    const result = await runCli(['--wait', '--wait-timeout', '600ms', '-f', spec, '--', 'true']);
    assert.equal(result.status, 125);
    oneLine(
      result.stderr,
      new RegExp(`waiting for 127\\.0\\.0\\.2:${down} \\(-f ${spec}\\): connection refused$`),
    );
  });
});

describe('modes that must not look broken', () => {
  test(
    'forward-only mode says where it listens and where it dials; -q silences it',
    T,
    async (t) => {
      const port = await freePort('127.0.0.1');
      const running = startLinkfwd(t, ['-f', `127.0.0.1:${port}:db.example:5432`]);
      await running.waitForStderr(/forwarding/);
      assert.equal(
        running.stderr,
        `linkfwd: forwarding 127.0.0.1:${port} → db.example:5432 (-f 127.0.0.1:${port}:db.example:5432)\n`,
      );
      running.child.kill('SIGTERM');
      assert.equal((await running.exited).status, 0);

      const quiet = startLinkfwd(t, [
        '-q',
        '-f',
        `127.0.0.1:${port}:db.example:5432`,
        '--',
        ...fixture('exit-with.mjs', '0'),
      ]);
      assert.equal((await quiet.exited).status, 0);
      assert.equal(quiet.stderr, '');
    },
  );

  test('with an app, linkfwd stays silent', T, async () => {
    const port = await freePort('127.0.0.1');
    const result = await runCli(['-f', `127.0.0.1:${port}:db.example:5432`, '--', 'true']);
    assert.equal(result.status, 0);
    assert.equal(result.stderr, '');
  });

  test('--print lists excluded variables, and exits as the start-up would', T, async () => {
    const env = cleanEnv({
      KUBERNETES_PORT_443_TCP: 'tcp://10.0.0.1:443',
      X_PORT_1_TCP: 'tcp://10.0.0.2:1',
    });
    const printed = await runCli(['--print', '--json', '--exclude', 'x'], { env });
    assert.deepEqual(JSON.parse(printed.stdout).skipped, [
      { origin: 'KUBERNETES_PORT_443_TCP', reason: 'excluded by default' },
      { origin: 'X_PORT_1_TCP', reason: 'excluded by --exclude' },
    ]);
    // Nothing to forward and no command: the real run exits 125, so --print does too.
    assert.equal(printed.status, 125);
    const run = await runCli(['--exclude', 'x'], { env });
    assert.equal(run.status, 125);
    assert.equal((await runCli(['--print', '--exclude', 'x', '--', 'true'], { env })).status, 0);
  });

  test('--help fits 80 columns when piped, labels values by meaning, names SIGHUP', T, async () => {
    const { stdout, status } = await runCli(['--help']);
    assert.equal(status, 0);
    for (const line of stdout.split('\n')) assert.ok(line.length <= 80, `too wide: ${line}`);
    assert.doesNotMatch(stdout, /\[string\]|\[array\]|\[boolean\]/);
    assert.match(stdout, /upstream dial timeout \[duration\] \[default: 10s\]/);
    assert.match(stdout, /\[number\]/);
    assert.match(stdout, /SIGTERM, SIGINT or SIGHUP/);
  });
});

describe('what reaches the app', () => {
  test(
    'bytes that are not UTF-8 are named in a warning (position, variable), never quoted',
    T,
    async () => {
      const { file, args } = linkfwdCommand();
      // A shell of the test's own makes the bytes: Node's spawn cannot pass them.
      const script = `exec "$@" "$(printf 'x\\377y')"`;
      const result = await runProgram(
        '/bin/sh',
        [
          '-c',
          `BAD2=$(printf 'a\\377') ${script}`,
          'sh',
          file,
          ...args,
          '--',
          ...fixture('argv.mjs', 'ok'),
        ],
        { env: cleanEnv() },
      );
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), ['ok', 'x\uFFFDy']);
      oneLine(
        result.stderr,
        /^linkfwd: argument 3 of the command \(0 is the command\) and variable BAD2: not valid UTF-8; the app receives U\+FFFD for those bytes$/,
      );
    },
  );

  test(
    'an executable without a #! line is run by /bin/sh, as exec in a script does',
    T,
    async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'linkfwd-no-hashbang-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const file = join(dir, 'plain');
      // Shell syntax only a shell understands: the file reaches the app's argv through /bin/sh.
      writeFileSync(file, 'set -- "$@" two\nprintf "%s|" "$0" "$@"\n');
      chmodSync(file, 0o755);
      const result = await runCli(['--', file, 'one'], { env: cleanEnv() });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout, `${file}|one|two|`);
      assert.equal(result.stderr, '');
    },
  );

  test('the app dies with linkfwd, also when linkfwd is killed by SIGKILL', T, async (t) => {
    const running = startLinkfwd(t, ['--', ...fixture('print-signals.mjs', '--exit-on-term', '0')]);
    await running.waitForStdout(/^ready$/m);
    const [app] = childPids(running.child.pid ?? 0);
    assert.ok(app !== undefined, 'the app runs under linkfwd');
    running.child.kill('SIGKILL');
    await running.exited;
    await waitFor(`the app (pid ${app}) to end`, () => !isAlive(app), 5000);
  });
});
