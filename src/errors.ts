/**
 * Every failure linkfwd reports is a {@link LinkfwdError}: a stable `code`, the process exit
 * status it maps to, the origin it concerns (a variable name or `-f` text) and the OS error as
 * `cause`. Tests and callers match on `code`, never on message text.
 */

/** Exit status when linkfwd itself failed (usage, bad spec, bind failure, wait timeout). */
export const EXIT_LINKFWD_FAILED = 125;
/** Exit status when the command was found but could not be executed. */
const EXIT_NOT_EXECUTABLE = 126;
/** Exit status when the command was not found. */
const EXIT_NOT_FOUND = 127;

export const ERROR_CODES = {
  /** Bad command line or configuration: unknown option, bad value, nothing to do. */
  ERR_LINKFWD_USAGE: EXIT_LINKFWD_FAILED,
  /** A forward spec (`-f`, `LINKFWD_FORWARD`) does not follow the grammar. */
  ERR_LINKFWD_BAD_SPEC: EXIT_LINKFWD_FAILED,
  /** A duration option could not be parsed. */
  ERR_LINKFWD_BAD_DURATION: EXIT_LINKFWD_FAILED,
  /** Two explicit forwards on the same listen address and port. */
  ERR_LINKFWD_CONFLICT: EXIT_LINKFWD_FAILED,
  /** `--strict`: two discovered forwards on the same port with different targets. */
  ERR_LINKFWD_DISCOVERED_CONFLICT: EXIT_LINKFWD_FAILED,
  /** `--strict`: a malformed link variable. */
  ERR_LINKFWD_BAD_LINK_VARIABLE: EXIT_LINKFWD_FAILED,
  /** A listener could not be opened (address in use, permission denied, no such address). */
  ERR_LINKFWD_LISTEN: EXIT_LINKFWD_FAILED,
  /** `--wait`: some targets did not accept TCP within `--wait-timeout`. */
  ERR_LINKFWD_WAIT_TIMEOUT: EXIT_LINKFWD_FAILED,
  /** The command does not exist (ENOENT). */
  ERR_LINKFWD_COMMAND_NOT_FOUND: EXIT_NOT_FOUND,
  /** The command exists but cannot be executed (EACCES, a directory, a bad binary). */
  ERR_LINKFWD_COMMAND_NOT_EXECUTABLE: EXIT_NOT_EXECUTABLE,
  /** The system could not start the app (EAGAIN, ENOMEM, EMFILE) or refused its command. */
  ERR_LINKFWD_SPAWN: EXIT_LINKFWD_FAILED,
  /** A forwarding thread crashed (`--threads`): everything is closed, the app stopped. */
  ERR_LINKFWD_THREAD: EXIT_LINKFWD_FAILED,
  /** Any other failure inside linkfwd. */
  ERR_LINKFWD_INTERNAL: EXIT_LINKFWD_FAILED,
} as const;

export type LinkfwdErrorCode = keyof typeof ERROR_CODES;

export interface LinkfwdErrorOptions {
  /** The variable name or spec text the error concerns. */
  origin?: string | undefined;
  /** The underlying error, usually a Node system error. */
  cause?: unknown;
}

export class LinkfwdError extends Error {
  override readonly name = 'LinkfwdError';
  readonly code: LinkfwdErrorCode;
  /** The status the CLI exits with when this error ends the run. */
  readonly exitStatus: number;
  readonly origin: string | undefined;

  constructor(code: LinkfwdErrorCode, message: string, options: LinkfwdErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.exitStatus = ERROR_CODES[code];
    this.origin = options.origin;
  }
}

export function isLinkfwdError(value: unknown): value is LinkfwdError {
  return value instanceof LinkfwdError;
}

/** Human text for the errno codes users meet when listening and dialling. */
const ERRNO_TEXT: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available',
  EAFNOSUPPORT: 'address family not supported',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'temporary failure in name resolution',
  ENOENT: 'no such file or directory',
  EMFILE: 'too many open files',
};

/** `address already in use` for an EADDRINUSE error, else the error's code or message. */
export function describeSystemError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined) return ERRNO_TEXT[code] ?? code;
  return error instanceof Error ? error.message : String(error);
}
