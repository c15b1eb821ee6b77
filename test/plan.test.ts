import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type PlanInput, planForwards } from '../src/plan/plan.js';
import { parseForwardSpec } from '../src/plan/spec.js';
import { readEnvFile } from './helpers/env-file.js';

const flag = (text: string) => parseForwardSpec(text, { source: 'flag' });
const envSpec = (text: string) => parseForwardSpec(text, { source: 'env' });

/** `origin listen… → target [explicit]` per forward, for compact assertions. */
function rows(input: PlanInput): string[] {
  return planForwards(input).forwards.map(
    (f) =>
      `${f.origin} ${f.listen.map((l) => `${l.host}:${l.port}`).join(',')} → ${f.target.host}:${f.target.port}${f.explicit ? ' explicit' : ''}`,
  );
}

describe('planForwards', () => {
  test('explicit specs listen on 127.0.0.1 and ::1 by default, ::1 optional', () => {
    const plan = planForwards({ specs: [flag('5432:db:5432')] });
    assert.deepEqual(plan.forwards[0]?.listen, [
      { host: '127.0.0.1', port: 5432 },
      { host: '::1', port: 5432, optional: true },
    ]);
    assert.deepEqual(plan.errors, []);
    assert.deepEqual(plan.warnings, []);
  });

  test('--bind replaces the defaults; a spec with its own address keeps it', () => {
    assert.deepEqual(
      rows({
        specs: [flag('5432:db:5432'), flag('::1:6379:cache:6379'.replace('::1', '[::1]'))],
        bind: ['127.0.0.2'],
      }),
      [
        '5432:db:5432 127.0.0.2:5432 → db:5432 explicit',
        '[::1]:6379:cache:6379 ::1:6379 → cache:6379 explicit',
      ],
    );
  });

  test('two explicit forwards on one address and port: ERR_LINKFWD_CONFLICT', () => {
    const plan = planForwards({ specs: [flag('5432:a:1'), flag('127.0.0.1:5432:b:2')] });
    assert.deepEqual(
      plan.errors.map((e) => e.code),
      ['ERR_LINKFWD_CONFLICT'],
    );
    assert.match(
      plan.errors[0]?.message ?? '',
      /-f 5432:a:1 and -f 127.0.0.1:5432:b:2 both listen on 127.0.0.1:5432/,
    );
  });

  test('a wildcard bind overlaps loopback on the same port', () => {
    assert.equal(
      planForwards({ specs: [flag('0.0.0.0:80:a:1'), flag('127.0.0.1:80:b:1')] }).errors.length,
      1,
    );
    assert.equal(
      planForwards({ specs: [flag('[::]:80:a:1'), flag('127.0.0.1:80:b:1')] }).errors.length,
      1,
    );
    assert.equal(
      planForwards({ specs: [flag('127.0.0.1:80:a:1'), flag('127.0.0.2:80:b:1')] }).errors.length,
      0,
    );
  });

  test('-f wins over LINKFWD_FORWARD on the same address and port', () => {
    const plan = planForwards({
      specs: [envSpec('5432:env-db:5432'), flag('5432:flag-db:5432'), envSpec('6379:cache:6379')],
    });
    assert.deepEqual(plan.errors, []);
    assert.deepEqual(
      plan.forwards.map((f) => f.target.host),
      ['flag-db', 'cache'],
    );
  });

  test('explicit wins over discovered; discovered is listed as overridden', () => {
    const plan = planForwards({
      specs: [flag('5432:other:5432')],
      env: { DB_PORT_5432_TCP: 'tcp://172.17.0.5:5432' },
    });
    assert.deepEqual(
      plan.forwards.map((f) => f.origin),
      ['5432:other:5432'],
    );
    assert.deepEqual(plan.skipped, [
      {
        origin: 'DB_PORT_5432_TCP',
        reason: 'overridden by -f 5432:other:5432',
        kind: 'overridden',
      },
    ]);
  });

  test('discovered on one port: same target collapses to the first name', () => {
    const plan = planForwards({
      env: { B_PORT_80_TCP: 'tcp://10.0.0.1:80', A_PORT_80_TCP: 'tcp://10.0.0.1:80' },
    });
    assert.deepEqual(
      plan.forwards.map((f) => f.origin),
      ['A_PORT_80_TCP'],
    );
    assert.deepEqual(
      plan.skipped.map((s) => [s.origin, s.kind]),
      [['B_PORT_80_TCP', 'duplicate']],
    );
    assert.deepEqual(plan.warnings, []);
  });

  test('discovered on one port with different targets: both dropped, one warning; --strict: error', () => {
    const env = { A_PORT_80_TCP: 'tcp://10.0.0.1:80', B_PORT_80_TCP: 'tcp://10.0.0.2:80' };
    const plan = planForwards({ env });
    assert.deepEqual(plan.forwards, []);
    assert.equal(plan.warnings.length, 1);
    assert.match(plan.warnings[0] ?? '', /A_PORT_80_TCP and B_PORT_80_TCP/);
    assert.deepEqual(
      plan.skipped.map((s) => s.kind),
      ['conflict', 'conflict'],
    );
    const strict = planForwards({ env, strict: true });
    assert.deepEqual(
      strict.errors.map((e) => e.code),
      ['ERR_LINKFWD_DISCOVERED_CONFLICT'],
    );
    assert.deepEqual(strict.warnings, []);
  });

  test('malformed variables warn (never quoting the value); --strict makes them errors', () => {
    const env = { X_PORT_80_TCP: 'tcp://secret-value:0' };
    const plan = planForwards({ env });
    assert.equal(plan.warnings.length, 1);
    assert.match(plan.warnings[0] ?? '', /^X_PORT_80_TCP skipped: /);
    assert.doesNotMatch(plan.warnings[0] ?? '', /secret-value/);
    assert.deepEqual(
      planForwards({ env, strict: true }).errors.map((e) => e.code),
      ['ERR_LINKFWD_BAD_LINK_VARIABLE'],
    );
  });

  test('SCTP is skipped without a warning', () => {
    const plan = planForwards({ env: { S_PORT_777_SCTP: 'sctp://10.0.0.10:777' } });
    assert.deepEqual(plan.warnings, []);
    assert.deepEqual(plan.skipped, [
      {
        origin: 'S_PORT_777_SCTP',
        reason: 'sctp is not supported',
        kind: 'unsupported',
        alias: 'S',
      },
    ]);
  });

  test('KUBERNETES is excluded by default; --only lifts it; --exclude adds', () => {
    const env = readEnvFile('kubernetes.env');
    const origins = (input: PlanInput) =>
      planForwards({ env, ...input }).forwards.map((f) => f.origin);
    assert.ok(!origins({}).includes('KUBERNETES_PORT_443_TCP'));
    assert.deepEqual(origins({ only: ['kubernetes'] }), ['KUBERNETES_PORT_443_TCP']);
    assert.ok(!origins({ exclude: ['postgres'] }).includes('POSTGRES_PORT_5432_TCP'));
    assert.deepEqual(origins({ only: ['postgres'], exclude: ['postgres'] }), []);
  });

  test('--only matches case-insensitively with - equal to _, and makes forwards explicit', () => {
    const env = readEnvFile('kubernetes.env');
    assert.deepEqual(rows({ env, only: ['redis-master', 'Postgres'] }), [
      'POSTGRES_PORT_5432_TCP 127.0.0.1:5432,::1:5432 → 10.96.12.40:5432 explicit',
      'REDIS_MASTER_PORT_6379_TCP 127.0.0.1:6379,::1:6379 → 10.96.7.7:6379 explicit',
    ]);
  });

  test('--only an alias with no variables is an error; with allowMissing a warning', () => {
    const plan = planForwards({ env: {}, only: ['nope'] });
    assert.deepEqual(plan.warnings, []);
    assert.deepEqual(
      plan.errors.map((e) => [e.code, e.origin, e.message]),
      [
        [
          'ERR_LINKFWD_USAGE',
          '--only',
          '--only NOPE: no link variables for this alias (--allow-missing makes this a warning)',
        ],
      ],
    );
    const allowed = planForwards({ env: {}, only: ['nope'], allowMissing: true });
    assert.deepEqual(allowed.errors, []);
    assert.deepEqual(allowed.warnings, ['--only NOPE: no link variables for this alias']);
    // Found but excluded is not "missing".
    const excluded = planForwards({
      env: { A_PORT_1_TCP: 'tcp://h:1' },
      only: ['a'],
      exclude: ['a'],
    });
    assert.deepEqual([excluded.errors, excluded.forwards], [[], []]);
  });

  test('excluded variables are listed as skipped, with the reason', () => {
    const env = { KUBERNETES_PORT_443_TCP: 'tcp://10.0.0.1:443', X_PORT_1_TCP: 'tcp://h:1' };
    assert.deepEqual(
      planForwards({ env, exclude: ['x'] }).skipped.map((s) => [s.origin, s.reason, s.kind]),
      [
        ['KUBERNETES_PORT_443_TCP', 'excluded by default', 'excluded'],
        ['X_PORT_1_TCP', 'excluded by --exclude', 'excluded'],
      ],
    );
  });

  test('--bind addresses one of which covers the other are a conflict', () => {
    const clash = (bind: string[]) => planForwards({ bind }).errors.map((e) => e.code);
    assert.deepEqual(clash(['127.0.0.1', '0.0.0.0']), ['ERR_LINKFWD_CONFLICT']);
    assert.deepEqual(clash(['::', '::1']), ['ERR_LINKFWD_CONFLICT']);
    assert.deepEqual(clash(['0.0.0.0', '::']), []);
    assert.deepEqual(clash(['127.0.0.1', '::1', '127.0.0.2']), []);
  });

  test('explicit link forwards conflicting with -f are errors', () => {
    const plan = planForwards({
      specs: [flag('5432:x:1')],
      env: { DB_PORT_5432_TCP: 'tcp://10.0.0.1:5432' },
      only: ['db'],
    });
    assert.deepEqual(
      plan.errors.map((e) => e.code),
      ['ERR_LINKFWD_CONFLICT'],
    );
  });

  test('--no-links ignores link variables', () => {
    assert.deepEqual(
      planForwards({ env: readEnvFile('docker-link.env'), links: false }).forwards,
      [],
    );
  });

  test('a non-loopback listen address warns that the port is exposed', () => {
    const plan = planForwards({ specs: [flag('0.0.0.0:5432:db:5432'), flag('6379:cache:6379')] });
    assert.equal(plan.warnings.length, 1);
    assert.match(
      plan.warnings[0] ?? '',
      /port 5432 is exposed .* on 0\.0\.0\.0 \(-f 0\.0\.0\.0:5432:db:5432\)/,
    );
    assert.equal(
      planForwards({ specs: [flag('6379:cache:6379')], bind: ['0.0.0.0'] }).warnings.length,
      1,
    );
  });

  test('kubernetes fixture: two services on port 80 cancel out, the rest are forwarded', () => {
    const plan = planForwards({ env: readEnvFile('kubernetes.env') });
    assert.deepEqual(
      plan.forwards.map((f) => f.origin),
      [
        'COREDNS_PORT_53_TCP',
        'COREDNS_PORT_53_UDP',
        'GRPC_PORT_5000_TCP',
        'POSTGRES_PORT_5432_TCP',
        'REDIS_MASTER_PORT_6379_TCP',
        'DEV_ENV_API_PORT_8080_TCP',
        'SUPER_IPV6_PORT_8084_TCP',
        'SUPER_IPV6_PORT_8084_UDP',
        'API_PORT_9090_TCP',
        'MONGO_PORT_27017_TCP',
      ],
    );
    assert.equal(plan.warnings.length, 1);
    assert.match(plan.warnings[0] ?? '', /API_PORT_80_TCP and WEB_PORT_80_TCP/);
    assert.ok(plan.forwards.every((f) => !f.explicit));
  });

  test('docker fixture: the _ENV_ copy of an ambassador variable is not a forward', () => {
    const plan = planForwards({ env: readEnvFile('docker-link.env') });
    assert.ok(!plan.forwards.some((f) => f.origin.includes('_ENV_') || f.listen[0]?.port === 1234));
    assert.equal(plan.forwards.length, 7);
  });
});
