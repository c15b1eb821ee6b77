import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDuration, parseDuration } from '../src/options/duration.js';
import { mergeSettings, settingsFromEnv, settingsFromFlags } from '../src/options/settings.js';
import { parseBindAddress, parseCount, parseSwitch, splitList } from '../src/options/values.js';
import { parseForwardSpec } from '../src/plan/spec.js';

describe('parseDuration', () => {
  const rows: [string, number][] = [
    ['500ms', 500],
    ['10s', 10_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['30', 30_000],
    ['0', 0],
    ['1.5s', 1500],
    ['0.25', 250],
  ];
  for (const [text, ms] of rows)
    test(`${text} → ${ms}`, () => assert.equal(parseDuration(text, '--x'), ms));
  for (const text of ['', 'abc', '-1s', '10 s', '1e3', '5d', 's', '.5s', '1..5s', '999999999h']) {
    test(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseDuration(text, '--wait-timeout'), {
        code: 'ERR_LINKFWD_BAD_DURATION',
        origin: '--wait-timeout',
      });
    });
  }
  test('formatDuration', () => {
    assert.deepEqual([250, 1500, 30_000, 120_000, 7_200_000].map(formatDuration), [
      '250ms',
      '1.5s',
      '30s',
      '2m',
      '2h',
    ]);
  });
});

describe('settings', () => {
  test('splitList takes commas, spaces and repeats', () => {
    assert.deepEqual(splitList(['a,b', 'c  d', ',']), ['a', 'b', 'c', 'd']);
    assert.deepEqual(splitList('5432:db:5432, 6379:cache:6379'), [
      '5432:db:5432',
      '6379:cache:6379',
    ]);
    assert.equal(splitList(undefined), undefined);
  });

  test('parseSwitch', () => {
    assert.equal(parseSwitch('1', 'X'), true);
    assert.equal(parseSwitch('TRUE', 'X'), true);
    assert.equal(parseSwitch('0', 'X'), false);
    assert.equal(parseSwitch('off', 'X'), false);
    assert.equal(parseSwitch('', 'X'), undefined);
    assert.throws(() => parseSwitch('maybe', 'LINKFWD_WAIT'), {
      code: 'ERR_LINKFWD_USAGE',
      origin: 'LINKFWD_WAIT',
    });
  });

  test('parseCount and parseBindAddress', () => {
    assert.equal(parseCount('4096', '--max-connections'), 4096);
    for (const bad of ['0', '-1', '1.5', 'many', '0x10']) {
      assert.throws(() => parseCount(bad, '--max-connections'), { code: 'ERR_LINKFWD_USAGE' });
    }
    assert.equal(parseBindAddress('[::1]', '--bind'), '::1');
    assert.equal(parseBindAddress('0.0.0.0', '--bind'), '0.0.0.0');
    assert.throws(() => parseBindAddress('localhost', '--bind'), { code: 'ERR_LINKFWD_USAGE' });
  });

  test('every LINKFWD_* variable is read', () => {
    const { settings, warnings } = settingsFromEnv({
      LINKFWD_FORWARD: '5432:db:5432 6379:cache:6379',
      LINKFWD_LINKS: '0',
      LINKFWD_ONLY: 'db,cache',
      LINKFWD_EXCLUDE: 'mq',
      LINKFWD_BIND: '127.0.0.1',
      LINKFWD_CONNECT_TIMEOUT: '2s',
      LINKFWD_IDLE_TIMEOUT: '1m',
      LINKFWD_MAX_CONNECTIONS: '10',
      LINKFWD_WAIT: '1',
      LINKFWD_WAIT_TIMEOUT: '5s',
      LINKFWD_STRICT: 'yes',
      LINKFWD_SOMETHING_ELSE: 'ignored',
      LINKFWD_ALLOW_MISSING: '1',
    });
    assert.deepEqual(warnings, ['LINKFWD_SOMETHING_ELSE is not a linkfwd variable']);
    assert.deepEqual(
      settings.specs.map((s) => [s.origin, s.source]),
      [
        ['5432:db:5432', 'env'],
        ['6379:cache:6379', 'env'],
      ],
    );
    const { specs: _, ...rest } = settings;
    assert.deepEqual(rest, {
      links: false,
      only: ['db', 'cache'],
      exclude: ['mq'],
      bind: ['127.0.0.1'],
      connectTimeout: 2000,
      idleTimeout: 60_000,
      maxConnections: 10,
      wait: true,
      waitTimeout: 5000,
      strict: true,
      allowMissing: true,
    });
  });

  test('bad LINKFWD_* values are usage errors naming the variable', () => {
    assert.throws(() => settingsFromEnv({ LINKFWD_FORWARD: '5432:db' }), {
      code: 'ERR_LINKFWD_BAD_SPEC',
    });
    assert.throws(() => settingsFromEnv({ LINKFWD_WAIT_TIMEOUT: 'soon' }), {
      code: 'ERR_LINKFWD_BAD_DURATION',
      origin: 'LINKFWD_WAIT_TIMEOUT',
    });
    assert.throws(() => settingsFromEnv({ LINKFWD_MAX_CONNECTIONS: 'lots' }), {
      code: 'ERR_LINKFWD_USAGE',
      origin: 'LINKFWD_MAX_CONNECTIONS',
    });
  });

  test('flags beat env, env beats defaults, specs from both are kept', () => {
    const { settings: env } = settingsFromEnv({
      LINKFWD_FORWARD: '1:a:1',
      LINKFWD_WAIT: '1',
      LINKFWD_CONNECT_TIMEOUT: '3s',
    });
    const merged = mergeSettings({ specs: [], connectTimeout: 1000, wait: undefined }, env);
    assert.equal(merged.connectTimeout, 1000);
    assert.equal(merged.wait, true);
    assert.equal(merged.specs.length, 1);
    assert.equal(merged.idleTimeout, undefined);
  });

  test('a bad variable is only a warning when its flag is given', () => {
    const env = { LINKFWD_CONNECT_TIMEOUT: 'soon', LINKFWD_FORWARD: '1:a:1' };
    const { settings, warnings } = settingsFromEnv(env, { specs: [], connectTimeout: 1000 });
    assert.equal(settings.connectTimeout, undefined);
    assert.equal(settings.specs.length, 1);
    assert.match(
      warnings[0] ?? '',
      /^LINKFWD_CONNECT_TIMEOUT: .*\(ignored: --connect-timeout is given\)$/,
    );
    // Specs from both sources are merged, never overridden: a bad one stays an error.
    assert.throws(
      () => settingsFromEnv({ LINKFWD_FORWARD: 'x' }, { specs: [parseForwardSpec('1:a:1')] }),
      {
        code: 'ERR_LINKFWD_BAD_SPEC',
      },
    );
  });

  test('unknown LINKFWD_* names: the closest known name, or the option without a variable', () => {
    const { warnings } = settingsFromEnv({
      LINKFWD_FORWRD: 'x',
      LINKFWD_JSON: '1',
      LINKFWD_ZZZZZZZZ: '',
    });
    assert.deepEqual(warnings, [
      'LINKFWD_FORWRD is not a linkfwd variable (did you mean LINKFWD_FORWARD?)',
      'LINKFWD_JSON is not read: --json has no variable',
      'LINKFWD_ZZZZZZZZ is not a linkfwd variable',
    ]);
  });

  test('-f takes one spec per flag; LINKFWD_FORWARD takes a list', () => {
    assert.throws(() => settingsFromFlags({ forward: ['5432:d b:5432'] }), {
      code: 'ERR_LINKFWD_BAD_SPEC',
      origin: '5432:d b:5432',
    });
    assert.throws(() => settingsFromFlags({ forward: [''] }), { code: 'ERR_LINKFWD_BAD_SPEC' });
    const { settings } = settingsFromEnv({ LINKFWD_FORWARD: '1:a:1, 2:b:2' });
    assert.deepEqual(
      settings.specs.map((s) => s.origin),
      ['1:a:1', '2:b:2'],
    );
    assert.deepEqual(settingsFromFlags({ only: ['a,b', 'c'] }).only, ['a', 'b', 'c']);
  });
});
