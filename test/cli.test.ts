import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { PlanJson } from '../src/plan/print.js';
import { cleanEnv, ROOT, runCli } from './helpers/cli.js';
import { readEnvFile } from './helpers/env-file.js';
import { loopbackListen } from './helpers/plan-json.js';

/** Exactly one `linkfwd:` line on stderr, no stack trace. */
function assertOneErrorLine(stderr: string, pattern: RegExp) {
  const lines = stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0] ?? '', /^linkfwd: /);
  assert.match(lines[0] ?? '', pattern);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

async function printJson(env: Record<string, string>, args: string[] = []) {
  const result = await runCli(['--print', '--json', ...args], { env: cleanEnv(env) });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as PlanJson;
}

/** The port of a `--print --json` listen entry; `undefined` for a Unix path. */
function portOf(listen: PlanJson['forwards'][number]['listen'][number] | undefined) {
  return listen !== undefined && 'port' in listen ? listen.port : undefined;
}

describe('linkfwd --print', () => {
  test('docker-link fixture as JSON', async () => {
    const plan = await printJson(readEnvFile('docker-link.env'));
    assert.deepEqual(
      plan.forwards.map((f) => [
        f.origin,
        portOf(f.listen[0]),
        `${f.target.host}:${f.target.port}`,
        f.explicit,
      ]),
      [
        ['DNS_PORT_53_TCP', 53, '172.17.0.8:53', false],
        ['DNS_PORT_53_UDP', 53, '172.17.0.8:53', false],
        ['DB_PORT_5432_TCP', 5432, '172.17.0.5:5432', false],
        ['REDIS_PORT_6379_TCP', 6379, '172.17.0.6:6379', false],
        ['CLUSTER_PORT_7000_TCP', 7000, '172.17.0.7:7000', false],
        ['CLUSTER_PORT_7001_TCP', 7001, '172.17.0.7:7001', false],
        ['CLUSTER_PORT_7002_TCP', 7002, '172.17.0.7:7002', false],
      ],
    );
    assert.deepEqual(
      plan.forwards.map((f) => f.protocol),
      ['tcp', 'udp', 'tcp', 'tcp', 'tcp', 'tcp', 'tcp'],
    );
    assert.deepEqual(plan.forwards[2]?.listen, loopbackListen(5432));
    assert.deepEqual(plan.skipped, []);
  });

  test('kubernetes fixture as JSON, with the port-80 conflict listed and warned', async () => {
    const env = cleanEnv(readEnvFile('kubernetes.env'));
    const result = await runCli(['--print', '--json'], { env });
    assert.equal(result.status, 0);
    const plan = JSON.parse(result.stdout) as {
      forwards: { origin: string; target: { host: string } }[];
      skipped: { origin: string }[];
    };
    assert.equal(plan.forwards.length, 10);
    assert.equal(
      plan.forwards.find((f) => f.origin === 'SUPER_IPV6_PORT_8084_TCP')?.target.host,
      '2001:DB8::',
    );
    assert.deepEqual(
      plan.skipped.map((s) => s.origin),
      ['API_PORT_80_TCP', 'KUBERNETES_PORT_443_TCP', 'SCTP_1_PORT_777_SCTP', 'WEB_PORT_80_TCP'],
    );
    assertOneErrorLine(result.stderr, /API_PORT_80_TCP and WEB_PORT_80_TCP/);
  });

  test('kubernetes fixture with --strict: plan printed, exit 125', async () => {
    const result = await runCli(['--print', '--json', '--strict'], {
      env: cleanEnv(readEnvFile('kubernetes.env')),
    });
    assert.equal(result.status, 125);
    assert.ok(JSON.parse(result.stdout).forwards.length > 0);
    assertOneErrorLine(result.stderr, /--strict/);
  });

  test('ambassador fixture', async () => {
    const plan = await printJson(readEnvFile('ambassador.env'));
    assert.deepEqual(
      plan.forwards.map((f) => [portOf(f.listen[0]), f.target]),
      [[1234, { host: '192.168.1.52', port: 6379 }]],
    );
  });

  test('explicit specs from -f and LINKFWD_FORWARD; the flag wins on the same port', async () => {
    const plan = await printJson({ LINKFWD_FORWARD: '5432:envdb:5432,6379:cache:6379' }, [
      '-f',
      '5432:flagdb:5432',
      '-f',
      '[::1]:8080:[fd00::5]:80',
    ]);
    assert.deepEqual(
      plan.forwards.map((f) => [f.origin, f.target.host, f.explicit]),
      [
        ['5432:flagdb:5432', 'flagdb', true],
        ['6379:cache:6379', 'cache', true],
        ['[::1]:8080:[fd00::5]:80', 'fd00::5', true],
      ],
    );
    assert.deepEqual(plan.forwards[2]?.listen, [{ host: '::1', port: 8080 }]);
  });

  test('the table shows origins, protocols, kinds and skipped variables', async () => {
    const env = cleanEnv({
      ...readEnvFile('docker-link.env'),
      LINKFWD_FORWARD: '9000:api:80',
      X_PORT_777_SCTP: 'sctp://10.0.0.1:777',
    });
    const result = await runCli(['--print', '-f', '5433:db:5432'], { env });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^LISTEN +PROTO +TARGET +ORIGIN +KIND$/m);
    assert.match(
      result.stdout,
      /127\.0\.0\.1:5433 \[::1\]:5433 +tcp +db:5432 +-f 5433:db:5432 +explicit/,
    );
    assert.match(result.stdout, /tcp +172\.17\.0\.5:5432 +DB_PORT_5432_TCP +discovered/);
    assert.match(result.stdout, /udp +172\.17\.0\.8:53 +DNS_PORT_53_UDP +discovered/);
    assert.match(result.stdout, /LINKFWD_FORWARD 9000:api:80 +explicit/);
    assert.match(result.stdout, /^SKIPPED\nX_PORT_777_SCTP +sctp is not supported$/m);
    assert.equal(result.stderr, '');
  });

  test('control characters in variable names are escaped in the table and in -v lines', async () => {
    const env = cleanEnv({
      'ESC\u001b[2J_PORT_6_TCP': 'tcp://10.0.0.1:6',
      'BEL\u0007_PORT_53_SCTP': 'sctp://10.0.0.1:53',
      OK_PORT_2_TCP: 'tcp://10.0.0.2:2',
    });
    const result = await runCli(['--print', '-v'], { env });
    assert.equal(result.status, 0, result.stderr);
    for (const out of [result.stdout, result.stderr]) {
      assert.doesNotMatch(
        out,
        // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
        /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/,
        'a raw control character',
      );
    }
    assert.match(result.stdout, /10\.0\.0\.1:6 +ESC\\u001b\[2J_PORT_6_TCP +discovered/);
    assert.match(result.stdout, /^BEL\\u0007_PORT_53_SCTP +sctp is not supported$/m);
    assert.match(
      result.stderr,
      /linkfwd:plan BEL\\u0007_PORT_53_SCTP skipped: sctp is not supported/,
    );
    assert.match(result.stdout, /10\.0\.0\.2:2 +OK_PORT_2_TCP +discovered/);
  });

  test('an explicit conflict still prints the plan and exits 125', async () => {
    const result = await runCli(['--print', '-f', '5432:a:1', '-f', '5432:b:2']);
    assert.equal(result.status, 125);
    assertOneErrorLine(
      result.stderr,
      /-f 5432:a:1 and -f 5432:b:2 both listen on 127\.0\.0\.1:5432/,
    );
  });

  test('secrets in _ENV_ variables never appear in the output', async () => {
    const env = cleanEnv({
      ...readEnvFile('docker-link.env'),
      X_PORT_1_TCP: 'tcp://also-secret:99999',
    });
    const table = await runCli(['--print', '-v'], { env });
    const json = await runCli(['--print', '--json', '-v'], { env });
    for (const out of [table.stdout, table.stderr, json.stdout, json.stderr]) {
      assert.doesNotMatch(out, /s3cr3t-do-not-log|also-secret/);
    }
    assert.match(table.stderr, /X_PORT_1_TCP skipped/);
  });
});

describe('linkfwd usage errors: one line, exit 125, nothing started', () => {
  const marker = join(tmpdir(), `linkfwd-never-${process.pid}`);
  const cases: [string, string[], Record<string, string>, RegExp][] = [
    ['bad spec', ['-f', '5432:db'], {}, /invalid forward "5432:db".*LOCAL_PORT/],
    ['bad port', ['-f', '70000:db:5432'], {}, /bad local port "70000"/],
    [
      'bad duration',
      ['--connect-timeout', 'soon', 'true'],
      {},
      /--connect-timeout: invalid duration "soon"/,
    ],
    ['bad count', ['--max-connections', '0', 'true'], {}, /--max-connections/],
    ['bad bind', ['--bind', 'localhost', 'true'], {}, /--bind: "localhost" is not an IP address/],
    ['unknown option', ['--frobnicate', 'true'], {}, /frobnicate/],
    ['missing value', ['-f'], {}, /forward|argument/i],
    ['nothing to do', [], {}, /nothing to do/],
    [
      'bad LINKFWD_FORWARD',
      ['true'],
      { LINKFWD_FORWARD: '1:2:3:4:5' },
      /invalid forward "1:2:3:4:5"/,
    ],
    ['bad LINKFWD_WAIT', ['true'], { LINKFWD_WAIT: 'perhaps' }, /LINKFWD_WAIT: expected 1 or 0/],
    ['--json without --print', ['--json', 'true'], {}, /--json goes with --print/],
    ['explicit conflict', ['-f', '5432:a:1', '-f', '5432:b:2', 'touch', marker], {}, /both listen/],
  ];
  for (const [name, args, env, pattern] of cases) {
    test(name, async () => {
      const result = await runCli(args, { env: cleanEnv(env) });
      assert.equal(result.status, 125, result.stderr);
      assert.equal(result.stdout, '');
      assertOneErrorLine(result.stderr, pattern);
    });
  }
  test('the app never ran', () => assert.equal(existsSync(marker), false));
});

describe('linkfwd start-up', () => {
  test('--help and --version go to stdout with status 0', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Forwards:/);
    assert.match(help.stdout, /--forward/);
    assert.match(help.stdout, /Examples:/);
    const version = await runCli(['-V']);
    assert.equal(version.status, 0);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(version.stdout, `${pkg.version}\n`);
  });

  test('an unrelated LINKFWD_* variable does not break start-up', async () => {
    const result = await runCli(['--print', '--json'], {
      env: cleanEnv({ LINKFWD_COLOR: 'purple', LINKFWD_: 'x', LINKFWD_FORWARD: '5432:db:5432' }),
    });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).forwards.length, 1);
  });

  test('hostile variable values are never executed', async () => {
    const marker = join(tmpdir(), `linkfwd-pwned-${process.pid}`);
    const env = cleanEnv({
      A_PORT_1000_TCP: `tcp://$(touch ${marker}):1000`,
      B_PORT_1001_TCP: `tcp://\`touch ${marker}\`:1001`,
      C_PORT_1002_TCP: `tcp://x;touch ${marker}:1002`,
      D_PORT_1003_TCP: `tcp://x|touch ${marker}:1003`,
      LINKFWD_FORWARD: `1004:$(touch ${marker}):1`,
    });
    const result = await runCli(['--print', '--json'], { env });
    assert.equal(result.status, 125);
    const withoutForward = { ...env };
    delete withoutForward.LINKFWD_FORWARD;
    const print = await runCli(['--print', '--json'], { env: withoutForward });
    // Nothing to forward and no command: 125, as the real start-up would.
    assert.equal(print.status, 125);
    assert.deepEqual(JSON.parse(print.stdout).forwards, []);
    const lines = print.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 5);
    assert.match(lines[4] ?? '', /nothing to do/);
    assert.equal(existsSync(marker), false);
  });
});

describe('linkfwd early signal listeners (src/cli/early-signals.ts)', () => {
  // A child Node stands in for the bin: it loads the module, is sent SIGTERM before anything
  // else listens, then adds a listener as the signal router does.
  const script = `
    await import(${JSON.stringify(join(ROOT, 'src/cli/early-signals.ts'))});
    process.kill(process.pid, 'SIGTERM');
    setTimeout(() => {
      process.on('SIGTERM', (s) => {
        setImmediate(() => {
          console.log(s, process.listenerCount('SIGTERM'), process.listenerCount('SIGINT'));
          process.exit(0);
        });
      });
      process.on('SIGINT', () => {});
    }, 100);
  `;

  test('a SIGTERM before the router listens is held, then handed to it once', () => {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    assert.equal(result.signal, null, 'killed by the signal: nothing held it');
    assert.equal(result.status, 0, result.stderr);
    // Handed over once, and only the router's listeners remain.
    assert.equal(result.stdout.trim(), 'SIGTERM 1 1');
  });
});
