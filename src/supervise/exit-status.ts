import { describeSystemError, LinkfwdError, type LinkfwdErrorCode } from '../errors.js';
import { signalNumber } from './signals.js';

/** How the app ended. */
export type ChildOutcome =
  /** It exited with `code`. */
  | { kind: 'exited'; code: number }
  /** It was killed by `signal`. */
  | { kind: 'killed'; signal: NodeJS.Signals }
  /** It could not be started; `error.cause` is the system's error. */
  | { kind: 'failed'; error: LinkfwdError };

/** Spawn errors that mean "found, but cannot be executed" (the shell's 126), with their text. */
const NOT_EXECUTABLE: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOEXEC: 'exec format error',
  EPERM: 'operation not permitted',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  ETXTBSY: 'text file busy',
  E2BIG: 'argument list too long',
};

/** What a spawn error means for the user: the error code (and so the status) and a text. */
function classifySpawnError(error: NodeJS.ErrnoException): {
  code: LinkfwdErrorCode;
  text: string;
} {
  const errno = error.code ?? '';
  if (errno === 'ENOENT')
    return { code: 'ERR_LINKFWD_COMMAND_NOT_FOUND', text: 'command not found' };
  const text = NOT_EXECUTABLE[errno];
  if (text !== undefined) return { code: 'ERR_LINKFWD_COMMAND_NOT_EXECUTABLE', text };
  return { code: 'ERR_LINKFWD_SPAWN', text: describeSystemError(error) };
}

/**
 * The error to report when the app could not be started: `ERR_LINKFWD_COMMAND_NOT_FOUND`
 * (127) for ENOENT — also when the file exists but its `#!` interpreter does not, as in the
 * shell — `ERR_LINKFWD_COMMAND_NOT_EXECUTABLE` (126) for EACCES, a directory and other exec
 * failures, `ERR_LINKFWD_SPAWN` (125) when the system could not start any process
 * (EAGAIN, ENOMEM, EMFILE) or the command was invalid. The OS error is the `cause`.
 */
export function commandError(command: string, error: NodeJS.ErrnoException): LinkfwdError {
  const { code, text } = classifySpawnError(error);
  return new LinkfwdError(code, `cannot run ${JSON.stringify(command)}: ${text}`, {
    origin: command,
    cause: error,
  });
}

/**
 * The status linkfwd exits with: the app's exit code N, or 128 + the signal's number when it
 * was killed — computed, never re-raised, since as PID 1 a re-raised signal is ignored and
 * would read as 0. An app that could not be started gives its error's status (127, 126, 125).
 */
export function exitStatusOf(outcome: ChildOutcome): number {
  switch (outcome.kind) {
    case 'exited':
      return outcome.code;
    case 'killed':
      return 128 + signalNumber(outcome.signal);
    case 'failed':
      return outcome.error.exitStatus;
  }
}
