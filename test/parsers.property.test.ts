import assert from 'node:assert/strict';
import { isIPv4 as netIsIPv4, isIPv6 as netIsIPv6 } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { LinkfwdError } from '../src/errors.js';
import { parseDuration } from '../src/options/duration.js';
import { settingsFromEnv } from '../src/options/settings.js';
import { isIPv4, isIPv6 } from '../src/plan/ip.js';
import { parseLinkEnv } from '../src/plan/link-env.js';
import { planForwards } from '../src/plan/plan.js';
import { formatForwardSpec, parseForwardSpec } from '../src/plan/spec.js';

/** Runs `fn`: a value or a LinkfwdError is fine, anything else (a crash) fails the property. */
function valueOrLinkfwdError(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (error) {
    return error instanceof LinkfwdError;
  }
}

const NUM_RUNS = Number(process.env.LINKFWD_FUZZ_RUNS ?? 2000);

// Text made of the characters the grammars care about, so that near-misses are common.
const specish = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        ':',
        '[',
        ']',
        '.',
        '-',
        '0',
        '1',
        '5432',
        '65535',
        '65536',
        '::1',
        'db',
        '127.0.0.1',
        'fd00::5',
        ' ',
        '$(x)',
      ),
      fc.string({ maxLength: 4 }),
    ),
    { maxLength: 10 },
  )
  .map((parts) => parts.join(''));

test('parseForwardSpec never crashes, and what it accepts round-trips', () => {
  fc.assert(
    fc.property(fc.oneof(specish, fc.string(), fc.string({ unit: 'binary' })), (text) => {
      let spec: ReturnType<typeof parseForwardSpec>;
      try {
        spec = parseForwardSpec(text);
      } catch (error) {
        return error instanceof LinkfwdError && error.code === 'ERR_LINKFWD_BAD_SPEC';
      }
      const again = parseForwardSpec(formatForwardSpec(spec));
      return (
        again.port === spec.port &&
        again.target.host === spec.target.host &&
        again.bind === spec.bind
      );
    }),
    { numRuns: NUM_RUNS },
  );
});

test('valid specs are always accepted', () => {
  const port = fc.integer({ min: 1, max: 65535 });
  const host = fc.oneof(
    fc.ipV4(),
    fc.ipV6().map((h) => `[${h}]`),
    fc.domain(),
  );
  fc.assert(
    fc.property(port, host, port, (p, h, q) => {
      const spec = parseForwardSpec(`${p}:${h}:${q}`);
      return spec.port === p && spec.target.port === q;
    }),
    { numRuns: NUM_RUNS },
  );
});

const varName = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('DB', 'A_ENV_B', 'MY.DB', 'X', 'KUBERNETES', ''),
      fc.oneof(
        fc.constantFrom('5432', '0', '65536', '-1', '0x50', ''),
        fc.string({ maxLength: 6 }),
      ),
      fc.constantFrom('TCP', 'UDP', 'SCTP', 'tcp'),
    )
    .map(([a, p, proto]) => `${a}_PORT_${p}_${proto}`),
  fc.string(),
);
const varValue = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('tcp', 'udp', 'sctp', 'TCP', '', 'http'),
      fc.oneof(
        fc.ipV4(),
        fc.ipV6(),
        fc.ipV6().map((h) => `[${h}]`),
        fc.domain(),
        fc.string({ maxLength: 8 }),
      ),
      fc.oneof(fc.integer({ min: -2, max: 70000 }).map(String), fc.string({ maxLength: 4 })),
    )
    .map(([s, h, p]) => `${s}://${h}:${p}`),
  fc.string(),
  fc.string({ unit: 'binary' }),
);

test('parseLinkEnv and planForwards never crash on any environment', () => {
  fc.assert(
    fc.property(fc.dictionary(varName, varValue, { maxKeys: 12 }), fc.boolean(), (env, strict) => {
      const links = parseLinkEnv(env);
      for (const f of links.forwards) {
        assert.ok(f.port >= 1 && f.port <= 65535 && f.target.port >= 1 && f.target.port <= 65535);
      }
      const plan = planForwards({ env, strict });
      return plan.errors.every((e) => e instanceof LinkfwdError);
    }),
    { numRuns: NUM_RUNS },
  );
});

test('settingsFromEnv and parseDuration give a value or a LinkfwdError', () => {
  const linkfwdVar = fc.constantFrom(
    'LINKFWD_FORWARD',
    'LINKFWD_LINKS',
    'LINKFWD_BIND',
    'LINKFWD_CONNECT_TIMEOUT',
    'LINKFWD_MAX_CONNECTIONS',
    'LINKFWD_WAIT',
    'LINKFWD_UNKNOWN',
  );
  fc.assert(
    fc.property(
      fc.dictionary(linkfwdVar, fc.oneof(specish, fc.string())),
      fc.string(),
      (env, duration) => {
        return (
          valueOrLinkfwdError(() => settingsFromEnv(env).settings) &&
          valueOrLinkfwdError(() => parseDuration(duration, 'x'))
        );
      },
    ),
    { numRuns: NUM_RUNS },
  );
});

test("the plan's IP literal checks agree with node:net's", () => {
  const ipish = fc.string({
    unit: fc.constantFrom(...'0123456789abcdefABCDEF:.%[]-xz'),
    maxLength: 45,
  });
  const text = fc.oneof(fc.ipV4(), fc.ipV4Extended(), fc.ipV6(), ipish, fc.string());
  for (const sample of ['01.2.3.4', '::ffff:1.2.3.4', 'fe80::1%eth0', '::%:', '1::2::3', '[::1]']) {
    assert.equal(isIPv6(sample), netIsIPv6(sample), sample);
    assert.equal(isIPv4(sample), netIsIPv4(sample), sample);
  }
  fc.assert(
    fc.property(
      text,
      (host) => isIPv4(host) === netIsIPv4(host) && isIPv6(host) === netIsIPv6(host),
    ),
    { numRuns: NUM_RUNS * 10 },
  );
});
