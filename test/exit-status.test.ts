import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LinkfwdErrorCode } from '../src/errors.js';
import { type ChildOutcome, commandError, exitStatusOf } from '../src/supervise/exit-status.js';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`spawn cmd ${code}`), { code, syscall: 'spawn cmd', path: 'cmd' });
}

function failed(code: string): ChildOutcome {
  return { kind: 'failed', error: commandError('cmd', errno(code)) };
}

describe('exitStatusOf', () => {
  const rows: [string, ChildOutcome, number][] = [
    ['code 0', { kind: 'exited', code: 0 }, 0],
    ['code 1', { kind: 'exited', code: 1 }, 1],
    ['code 42', { kind: 'exited', code: 42 }, 42],
    ['code 125 (the app may use it too)', { kind: 'exited', code: 125 }, 125],
    ['code 255', { kind: 'exited', code: 255 }, 255],
    ['SIGHUP', { kind: 'killed', signal: 'SIGHUP' }, 129],
    ['SIGINT', { kind: 'killed', signal: 'SIGINT' }, 130],
    ['SIGQUIT', { kind: 'killed', signal: 'SIGQUIT' }, 131],
    ['SIGABRT', { kind: 'killed', signal: 'SIGABRT' }, 134],
    ['SIGKILL', { kind: 'killed', signal: 'SIGKILL' }, 137],
    ['SIGSEGV', { kind: 'killed', signal: 'SIGSEGV' }, 139],
    ['SIGTERM', { kind: 'killed', signal: 'SIGTERM' }, 143],
    ['ENOENT', failed('ENOENT'), 127],
    ['EACCES', failed('EACCES'), 126],
    ['EISDIR', failed('EISDIR'), 126],
    ['ENOEXEC', failed('ENOEXEC'), 126],
    ['EPERM', failed('EPERM'), 126],
    ['ENOTDIR', failed('ENOTDIR'), 126],
    ['EAGAIN', failed('EAGAIN'), 125],
  ];
  for (const [name, outcome, status] of rows) {
    test(`${name} → ${status}`, () => {
      assert.equal(exitStatusOf(outcome), status);
    });
  }
});

describe('commandError', () => {
  const rows: [string, string, LinkfwdErrorCode, number, string][] = [
    ['ENOENT', 'app', 'ERR_LINKFWD_COMMAND_NOT_FOUND', 127, 'cannot run "app": command not found'],
    [
      'EACCES',
      './app',
      'ERR_LINKFWD_COMMAND_NOT_EXECUTABLE',
      126,
      'cannot run "./app": permission denied',
    ],
    [
      'EISDIR',
      '/tmp',
      'ERR_LINKFWD_COMMAND_NOT_EXECUTABLE',
      126,
      'cannot run "/tmp": is a directory',
    ],
    [
      'ENOEXEC',
      'x',
      'ERR_LINKFWD_COMMAND_NOT_EXECUTABLE',
      126,
      'cannot run "x": exec format error',
    ],
    [
      'EPERM',
      'x',
      'ERR_LINKFWD_COMMAND_NOT_EXECUTABLE',
      126,
      'cannot run "x": operation not permitted',
    ],
    ['EMFILE', 'x', 'ERR_LINKFWD_SPAWN', 125, 'cannot run "x": too many open files'],
    ['ERR_INVALID_ARG_VALUE', '', 'ERR_LINKFWD_SPAWN', 125, 'cannot run "": ERR_INVALID_ARG_VALUE'],
  ];
  for (const [code, command, errorCode, status, message] of rows) {
    test(`${code} → ${errorCode}`, () => {
      const cause = errno(code);
      const error = commandError(command, cause);
      assert.equal(error.code, errorCode);
      assert.equal(error.exitStatus, status);
      assert.equal(error.message, message);
      assert.equal(error.origin, command);
      assert.equal(error.cause, cause);
      assert.equal(exitStatusOf({ kind: 'failed', error }), status);
    });
  }

  test('quotes a command with spaces and quotes unambiguously', () => {
    assert.equal(
      commandError('my "app"', errno('ENOENT')).message,
      'cannot run "my \\"app\\"": command not found',
    );
  });
});
