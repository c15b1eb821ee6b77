import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LinkfwdError } from '../src/errors.js';
import { planForwards } from '../src/plan/plan.js';
import { formatPlanTable, planToJson } from '../src/plan/print.js';
import { formatForwardSpec, parseForwardSpec } from '../src/plan/spec.js';
import { loopbackForwardJson } from './helpers/plan-json.js';

const badSpec = (pattern: RegExp) => (error: unknown) =>
  error instanceof LinkfwdError &&
  error.code === 'ERR_LINKFWD_BAD_SPEC' &&
  error.exitStatus === 125 &&
  pattern.test(error.message);

describe('forward specs: protocols and Unix listeners', () => {
  const good: [string, object][] = [
    ['5353:dns:53/udp', { port: 5353, target: { host: 'dns', port: 53 }, protocol: 'udp' }],
    ['5432:db:5432/tcp', { port: 5432, target: { host: 'db', port: 5432 } }],
    [
      '[::1]:53:[fd00::53]:53/udp',
      { bind: '::1', port: 53, target: { host: 'fd00::53', port: 53 }, protocol: 'udp' },
    ],
    [
      'unix:/run/pg/.s.PGSQL.5432:db:5432',
      { port: 0, unix: '/run/pg/.s.PGSQL.5432', target: { host: 'db', port: 5432 } },
    ],
    [
      'unix:/tmp/a:b.sock:db:5432/tcp',
      { port: 0, unix: '/tmp/a:b.sock', target: { host: 'db', port: 5432 } },
    ],
    [
      'unix:/tmp/x.sock:[fd00::5]:80',
      { port: 0, unix: '/tmp/x.sock', target: { host: 'fd00::5', port: 80 } },
    ],
  ];
  for (const [text, expected] of good) {
    test(text, () => {
      const spec = parseForwardSpec(text);
      assert.deepEqual(
        { ...spec, origin: undefined, source: undefined, bind: spec.bind },
        {
          bind: undefined,
          ...expected,
          origin: undefined,
          source: undefined,
        },
      );
      // The canonical text parses back to the same spec.
      const again = parseForwardSpec(formatForwardSpec(spec));
      assert.deepEqual({ ...again, origin: '' }, { ...spec, origin: '' });
    });
  }

  const bad: [string, RegExp][] = [
    [
      '53:dns:53/sctp',
      /invalid forward "53:dns:53\/sctp": unsupported protocol "sctp" \(tcp or udp\)/,
    ],
    ['53:dns:53/', /unsupported protocol ""/],
    ['unix:run/x.sock:db:5432', /Unix socket path "run\/x.sock" is not absolute/],
    ['unix:/run/:db:5432', /Unix socket path "\/run\/" names a directory/],
    ['unix:/run/x.sock:db:5432/udp', /a Unix-socket listener carries TCP streams only/],
    ['unix:/run/x.sock:db', /too few fields/],
    [`unix:/${'x'.repeat(120)}:db:5432`, /longer than 107 bytes/],
  ];
  for (const [text, pattern] of bad) {
    test(`refused: ${text.slice(0, 40)}`, () => {
      assert.throws(() => parseForwardSpec(text), badSpec(pattern));
    });
  }
});

describe('planning UDP forwards and Unix listeners', () => {
  test('TCP and UDP on one port are two forwards; two UDP ones on it conflict', () => {
    const specs = ['53:dns:53', '53:dns:53/udp'].map((s) => parseForwardSpec(s));
    const plan = planForwards({ specs });
    assert.deepEqual(plan.errors, []);
    assert.deepEqual(
      plan.forwards.map((f) => [f.origin, f.protocol ?? 'tcp']),
      [
        ['53:dns:53', 'tcp'],
        ['53:dns:53/udp', 'udp'],
      ],
    );
    const clash = planForwards({ specs: [...specs, parseForwardSpec('53:other:53/udp')] });
    assert.deepEqual(
      clash.errors.map((e) => e.message),
      ['-f 53:dns:53/udp and -f 53:other:53/udp both listen on 127.0.0.1:53/udp'],
    );
  });

  test('discovered TCP and UDP on one port do not cancel each other', () => {
    const env = {
      DNS_PORT_53_TCP: 'tcp://10.0.0.10:53',
      DNS_PORT_53_UDP: 'udp://10.0.0.10:53',
      OTHER_PORT_53_UDP: 'udp://10.0.0.11:53',
    };
    const plan = planForwards({ env });
    assert.deepEqual(
      plan.forwards.map((f) => f.origin),
      ['DNS_PORT_53_TCP'],
    );
    assert.deepEqual(plan.warnings, [
      'DNS_PORT_53_UDP and OTHER_PORT_53_UDP both want port 53/udp with different targets; none of them is forwarded',
    ]);
    const explicit = planForwards({ env, specs: [parseForwardSpec('53:dns:5353/udp')] });
    assert.deepEqual(
      explicit.forwards.map((f) => f.origin),
      ['53:dns:5353/udp', 'DNS_PORT_53_TCP'],
    );
  });

  test('a Unix listener conflicts only with the same path, never with a port', () => {
    const plan = planForwards({
      specs: ['unix:/tmp/a.sock:db:5432', '5432:db:5432', 'unix:/tmp/b.sock:db:5432'].map((s) =>
        parseForwardSpec(s),
      ),
    });
    assert.deepEqual(plan.errors, []);
    assert.deepEqual(plan.forwards.find((f) => f.unix === '/tmp/a.sock')?.listen, []);
    const clash = planForwards({
      specs: ['unix:/tmp/a.sock:db:5432', 'unix:/tmp/a.sock:db:6379'].map((s) =>
        parseForwardSpec(s),
      ),
    });
    assert.deepEqual(
      clash.errors.map((e) => e.message),
      ['-f unix:/tmp/a.sock:db:5432 and -f unix:/tmp/a.sock:db:6379 both listen on /tmp/a.sock'],
    );
  });

  test('--print and --print --json show the protocol and the Unix path', () => {
    const plan = planForwards({
      specs: ['5353:dns:53/udp', 'unix:/run/pg/.s.PGSQL.5432:db:5432'].map((s) =>
        parseForwardSpec(s),
      ),
      env: { S_PORT_777_SCTP: 'sctp://10.0.0.1:777' },
    });
    assert.equal(
      formatPlanTable(plan),
      [
        'LISTEN                      PROTO  TARGET   ORIGIN                                 KIND',
        'unix:/run/pg/.s.PGSQL.5432  tcp    db:5432  -f unix:/run/pg/.s.PGSQL.5432:db:5432  explicit',
        '127.0.0.1:5353 [::1]:5353   udp    dns:53   -f 5353:dns:53/udp                     explicit',
        '',
        'SKIPPED',
        'S_PORT_777_SCTP  sctp is not supported',
        '',
      ].join('\n'),
    );
    assert.deepEqual(planToJson(plan).forwards, [
      {
        listen: [{ path: '/run/pg/.s.PGSQL.5432' }],
        target: { host: 'db', port: 5432 },
        protocol: 'tcp',
        origin: 'unix:/run/pg/.s.PGSQL.5432:db:5432',
        explicit: true,
      },
      loopbackForwardJson(5353, 'dns:53', '5353:dns:53/udp', { protocol: 'udp' }),
    ]);
  });
});
