import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import {
  FORWARDED_SIGNALS,
  isForegroundProcess,
  isSignalSupported,
  isTerminating,
  listenedSignals,
  parseProcStat,
  shouldForward,
  signalAliases,
  signalNumber,
  TERMINAL_SIGNALS,
  TERMINATING_SIGNALS,
  UNHANDLED_SIGNALS,
} from '../src/supervise/signals.js';
import { ROOT } from './helpers/cli.js';

const linux = process.platform === 'linux';

describe('shouldForward', () => {
  const rows: [NodeJS.Signals, boolean, boolean][] = [
    ...FORWARDED_SIGNALS.flatMap((s): [NodeJS.Signals, boolean, boolean][] => [
      [s, false, true],
      [s, true, true],
    ]),
    ...TERMINAL_SIGNALS.flatMap((s): [NodeJS.Signals, boolean, boolean][] => [
      [s, false, true],
      [s, true, false],
    ]),
    ...[...UNHANDLED_SIGNALS, 'SIGSTKFLT' as const].flatMap(
      (s): [NodeJS.Signals, boolean, boolean][] => [
        [s, false, false],
        [s, true, false],
      ],
    ),
  ];
  for (const [signal, foreground, expected] of rows) {
    test(`${signal}, app ${foreground ? 'in' : 'not in'} the foreground → ${expected}`, () => {
      assert.equal(shouldForward(signal, foreground), expected);
    });
  }
});

describe('signal sets', () => {
  test('the policy lists are disjoint', () => {
    const all = [...FORWARDED_SIGNALS, ...TERMINAL_SIGNALS, ...UNHANDLED_SIGNALS];
    assert.equal(new Set(all).size, all.length);
  });

  test('listenedSignals: forwarded and terminal ones this platform has, never the unhandled', () => {
    const listened = listenedSignals();
    for (const signal of listened) assert.ok(isSignalSupported(signal), signal);
    for (const signal of UNHANDLED_SIGNALS) assert.ok(!listened.includes(signal), signal);
    for (const signal of ['SIGTERM', 'SIGUSR1', 'SIGINT', 'SIGWINCH'] as const) {
      assert.ok(listened.includes(signal), signal);
    }
    const expected = [...FORWARDED_SIGNALS, ...TERMINAL_SIGNALS].filter(isSignalSupported);
    assert.deepEqual(listened, expected);
    if (linux) assert.ok(listened.includes('SIGPWR'));
  });

  test('terminating signals are TERM, INT and HUP, and all are listened for', () => {
    assert.deepEqual([...TERMINATING_SIGNALS].sort(), ['SIGHUP', 'SIGINT', 'SIGTERM']);
    for (const signal of TERMINATING_SIGNALS) assert.ok(listenedSignals().includes(signal));
  });

  const terminating: [NodeJS.Signals, boolean][] = [
    ['SIGTERM', true],
    ['SIGINT', true],
    ['SIGHUP', true],
    ['SIGQUIT', false],
    ['SIGUSR1', false],
    ['SIGWINCH', false],
    ['SIGKILL', false],
  ];
  for (const [signal, expected] of terminating) {
    test(`isTerminating(${signal}) → ${expected}`, () => {
      assert.equal(isTerminating(signal), expected);
    });
  }
});

describe('signalNumber', () => {
  const rows: [NodeJS.Signals, number][] = [
    ['SIGHUP', 1],
    ['SIGINT', 2],
    ['SIGQUIT', 3],
    ['SIGABRT', 6],
    ['SIGKILL', 9],
    ['SIGTERM', 15],
  ];
  for (const [name, number] of rows) {
    test(`${name} → ${number}`, () => {
      assert.equal(signalNumber(name), number);
    });
  }

  test('agrees with os.constants for every listened signal', async () => {
    const { constants } = await import('node:os');
    for (const signal of listenedSignals())
      assert.equal(signalNumber(signal), constants.signals[signal]);
  });

  test('throws TypeError for an unknown name', () => {
    assert.throws(() => signalNumber('SIGNOPE' as NodeJS.Signals), TypeError);
    assert.equal(isSignalSupported('SIGNOPE'), false);
  });
});

describe('signalAliases', () => {
  const rows: [NodeJS.Signals, NodeJS.Signals[]][] = [
    ['SIGTERM', []],
    ['SIGINT', []],
    ...(linux
      ? ([
          ['SIGABRT', ['SIGIOT']],
          ['SIGIOT', ['SIGABRT']],
          ['SIGIO', ['SIGPOLL']],
        ] as [NodeJS.Signals, NodeJS.Signals[]][])
      : []),
  ];
  for (const [name, aliases] of rows) {
    test(`${name} → [${aliases.join(', ')}]`, () => {
      assert.deepEqual(signalAliases(name), aliases);
    });
  }

  test('an unknown name has none', () => {
    assert.deepEqual(signalAliases('SIGNOPE' as NodeJS.Signals), []);
  });
});

describe('parseProcStat', () => {
  // pid (comm) state ppid pgrp session tty_nr tpgid flags ...
  const tail = '0 0 0 0 0 20 0 1 0 1463784 3133440 360';
  const rows: [string, string, { pgrp: number; tpgid: number } | undefined][] = [
    [
      'a plain name',
      `8695 (cat) R 8691 8691 3945 34816 8691 4194304 ${tail}`,
      { pgrp: 8691, tpgid: 8691 },
    ],
    ['no terminal', `8695 (cat) S 1 8695 8695 0 -1 4194304 ${tail}`, { pgrp: 8695, tpgid: -1 }],
    ['spaces in the name', `42 (my app) S 1 40 40 34816 41 0 ${tail}`, { pgrp: 40, tpgid: 41 }],
    ['parentheses in the name', `42 ((a) b (c)) S 1 7 7 34816 7 0 ${tail}`, { pgrp: 7, tpgid: 7 }],
    [
      'a name of `) 1 2 3 4 5 6`',
      `42 () 1 2 3 4 5 6) S 1 9 9 34816 10 0 ${tail}`,
      { pgrp: 9, tpgid: 10 },
    ],
    ['a trailing newline', `42 (x) S 1 5 5 34816 5 0 ${tail}\n`, { pgrp: 5, tpgid: 5 }],
    ['empty', '', undefined],
    ['no parenthesis', '42 x S 1 5 5 0 5', undefined],
    ['cut short before tpgid', '42 (x) S 1 5 5 0', undefined],
    ['non-numeric fields', '42 (x) S 1 a b c d', undefined],
  ];
  for (const [name, text, expected] of rows) {
    test(name, () => {
      assert.deepEqual(parseProcStat(text), expected);
    });
  }
});

describe('isForegroundProcess', { skip: linux ? false : 'reads /proc: Linux only' }, () => {
  test('a process that does not exist → false', () => {
    assert.equal(isForegroundProcess(2 ** 31 - 1), false);
  });

  test('a process without a controlling terminal → false', { timeout: 10_000 }, async (t) => {
    // detached: setsid(), so no controlling terminal whoever runs the tests.
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      detached: true,
      stdio: 'ignore',
    });
    t.after(() => child.kill('SIGKILL'));
    await once(child, 'spawn');
    assert.equal(isForegroundProcess(child.pid!), false);
  });

  test('the foreground job of a pseudo-terminal → true', { timeout: 10_000 }, () => {
    // script(1) runs the command as the foreground job of a fresh pty.
    const probe =
      "import('./src/supervise/signals.ts').then((m) => console.log('fg=' + m.isForegroundProcess(process.pid)))";
    const result = spawnSync(
      'script',
      ['-qec', `${process.execPath} --import tsx -e "${probe}"`, '/dev/null'],
      { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 8_000 },
    );
    assert.equal(result.error, undefined, 'script(1) from util-linux is needed');
    assert.match(result.stdout, /fg=true/, result.stderr);
  });
});
