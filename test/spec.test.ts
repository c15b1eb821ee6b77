import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LinkfwdError } from '../src/errors.js';
import { isLoopback } from '../src/plan/ip.js';
import { formatForwardSpec, parseForwardSpec, parsePort } from '../src/plan/spec.js';

describe('parseForwardSpec', () => {
  const good: [string, string | undefined, number, string, number][] = [
    ['5432:db:5432', undefined, 5432, 'db', 5432],
    ['127.0.0.1:6380:cache:6379', '127.0.0.1', 6380, 'cache', 6379],
    ['[::1]:8080:[fd00::5]:80', '::1', 8080, 'fd00::5', 80],
    ['0.0.0.0:1:10.0.0.5:65535', '0.0.0.0', 1, '10.0.0.5', 65535],
    ['65535:my-db.svc.cluster.local:5432', undefined, 65535, 'my-db.svc.cluster.local', 5432],
    ['5432:db_1:5432', undefined, 5432, 'db_1', 5432],
    ['8080:[2001:db8::1]:80', undefined, 8080, '2001:db8::1', 80],
  ];
  for (const [text, bind, port, host, targetPort] of good) {
    test(`accepts ${text}`, () => {
      const spec = parseForwardSpec(text);
      assert.deepEqual(spec, {
        bind,
        port,
        target: { host, port: targetPort },
        origin: text,
        source: 'flag',
      });
    });
  }

  const bad = [
    '',
    '5432',
    '5432:db',
    'db:5432',
    '0:db:5432',
    '5432:db:0',
    '65536:db:5432',
    '5432:db:65536',
    '-1:db:5432',
    '0x50:db:80',
    '1e3:db:80',
    '007:db:80',
    '+80:db:80',
    '5432:db:5432:extra',
    '::1:5432:db:5432',
    '5432:fd00::5:80',
    '[::1:5432:db:5432',
    '[::1]x:5432:db:5432',
    '[db]:5432:db:5432',
    'localhost:5432:db:5432',
    ':5432:db:5432',
    '5432::5432',
    '5432:db;rm -rf /:5432',
    '5432:$(id):5432',
    '5432:db :5432',
    '5432:-db:5432',
    '[127.0.0.1]:5432:db:5432',
    '5432:[]:80',
  ];
  for (const text of bad) {
    test(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(
        () => parseForwardSpec(text),
        (error: unknown) =>
          error instanceof LinkfwdError &&
          error.code === 'ERR_LINKFWD_BAD_SPEC' &&
          error.exitStatus === 125 &&
          error.origin === text,
      );
    });
  }

  test('the message names the token and shows the expected form', () => {
    assert.throws(() => parseForwardSpec('5432:db:99999'), {
      message:
        /"5432:db:99999".*bad target port "99999".*\[BIND_ADDR:\]LOCAL_PORT:TARGET_HOST:TARGET_PORT/,
    });
  });

  test('port 0 only when allowed (library use)', () => {
    assert.throws(() => parseForwardSpec('0:db:1'), { code: 'ERR_LINKFWD_BAD_SPEC' });
    assert.equal(parseForwardSpec('0:db:1', { allowPortZero: true }).port, 0);
    assert.throws(() => parseForwardSpec('1:db:0', { allowPortZero: true }), {
      code: 'ERR_LINKFWD_BAD_SPEC',
    });
  });

  test('formatForwardSpec round-trips', () => {
    for (const text of ['5432:db:5432', '[::1]:8080:[fd00::5]:80', '127.0.0.1:6380:cache:6379']) {
      assert.equal(formatForwardSpec(parseForwardSpec(text)), text);
    }
  });
});

describe('parsePort', () => {
  const rows: [string, number | undefined][] = [
    ['1', 1],
    ['80', 80],
    ['65535', 65535],
    ['0', undefined],
    ['65536', undefined],
    ['00080', undefined],
    ['0x50', undefined],
    ['-1', undefined],
    ['', undefined],
    [' 80', undefined],
    ['8e1', undefined],
    ['١٢', undefined],
  ];
  for (const [text, port] of rows) {
    test(`${JSON.stringify(text)} → ${port}`, () => assert.equal(parsePort(text), port));
  }
  test('0 when allowed', () => assert.equal(parsePort('0', true), 0));
});

test('isLoopback', () => {
  for (const host of [
    '127.0.0.1',
    '127.0.0.2',
    '127.255.255.254',
    '::1',
    '0:0:0:0:0:0:0:1',
    '::ffff:127.0.0.1',
  ]) {
    assert.equal(isLoopback(host), true, host);
  }
  for (const host of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'fd00::1', '::ffff:10.0.0.1']) {
    assert.equal(isLoopback(host), false, host);
  }
});
