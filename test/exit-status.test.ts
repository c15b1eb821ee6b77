import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LinkfwdErrorCode } from '../src/errors.js';
import { type ChildOutcome, commandError, exitStatusOf } from '../src/exit-status.js';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`spawn cmd ${code}`), { code, syscall: 'spawn cmd', path: 'cmd' });
}

describe('exitStatusOf', () => {
  const rows: [string, ChildOutcome, number][] = [
    ['code 0', { code: 0, signal: null }, 0],
    ['code 1', { code: 1, signal: null }, 1],
    ['code 42', { code: 42, signal: null }, 42],
    ['code 125 (the app may use it too)', { code: 125, signal: null }, 125],
    ['code 255', { code: 255, signal: null }, 255],
    ['SIGHUP', { code: null, signal: 'SIGHUP' }, 129],
    ['SIGINT', { code: null, signal: 'SIGINT' }, 130],
    ['SIGQUIT', { code: null, signal: 'SIGQUIT' }, 131],
    ['SIGABRT', { code: null, signal: 'SIGABRT' }, 134],
    ['SIGKILL', { code: null, signal: 'SIGKILL' }, 137],
    ['SIGSEGV', { code: null, signal: 'SIGSEGV' }, 139],
    ['SIGTERM', { code: null, signal: 'SIGTERM' }, 143],
    ['ENOENT', { code: null, signal: null, error: errno('ENOENT') }, 127],
    ['EACCES', { code: null, signal: null, error: errno('EACCES') }, 126],
    ['EISDIR', { code: null, signal: null, error: errno('EISDIR') }, 126],
    ['ENOEXEC', { code: null, signal: null, error: errno('ENOEXEC') }, 126],
    ['EPERM', { code: null, signal: null, error: errno('EPERM') }, 126],
    ['ENOTDIR', { code: null, signal: null, error: errno('ENOTDIR') }, 126],
    ['EAGAIN', { code: null, signal: null, error: errno('EAGAIN') }, 125],
    ['neither code nor signal', { code: null, signal: null }, 125],
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
    ['EMFILE', 'x', 'ERR_LINKFWD_INTERNAL', 125, 'cannot run "x": too many open files'],
    [
      'ERR_INVALID_ARG_VALUE',
      '',
      'ERR_LINKFWD_INTERNAL',
      125,
      'cannot run "": ERR_INVALID_ARG_VALUE',
    ],
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
      assert.equal(exitStatusOf({ code: null, signal: null, error: cause }), status);
    });
  }

  test('quotes a command with spaces and quotes unambiguously', () => {
    assert.equal(
      commandError('my "app"', errno('ENOENT')).message,
      'cannot run "my \\"app\\"": command not found',
    );
  });
});
