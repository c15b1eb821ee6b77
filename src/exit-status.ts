import {
  describeSystemError,
  ERROR_CODES,
  EXIT_LINKFWD_FAILED,
  LinkfwdError,
  type LinkfwdErrorCode,
} from './errors.js';
import { signalNumber } from './signals.js';

/** How the app ended: the arguments of the child's `exit` event, or the spawn error. */
export interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the app could not be started; `code` and `signal` are then null. */
  error?: NodeJS.ErrnoException;
}

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
  return { code: 'ERR_LINKFWD_INTERNAL', text: describeSystemError(error) };
}

/**
 * The error to report when the app could not be started: `ERR_LINKFWD_COMMAND_NOT_FOUND`
 * (127) for ENOENT — also when the file exists but its `#!` interpreter does not, as in the
 * shell — `ERR_LINKFWD_COMMAND_NOT_EXECUTABLE` (126) for EACCES, a directory and other exec
 * failures, `ERR_LINKFWD_INTERNAL` (125) when the system could not start any process
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
 * The status linkfwd exits with (SPEC §5.6): the app's exit code N, or 128 + the signal's
 * number when it was killed — computed, never re-raised, since as PID 1 a re-raised signal
 * is ignored and would read as 0. A spawn error gives 127 or 126 (see {@link commandError}).
 */
export function exitStatusOf(outcome: ChildOutcome): number {
  if (outcome.error !== undefined) return ERROR_CODES[classifySpawnError(outcome.error).code];
  if (outcome.code !== null) return outcome.code;
  if (outcome.signal !== null) return 128 + signalNumber(outcome.signal);
  // Node reports one of the two on every exit; reaching here is a bug in the caller.
  return EXIT_LINKFWD_FAILED;
}
