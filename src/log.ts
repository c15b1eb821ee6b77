import createDebug from 'debug';

/**
 * Where linkfwd's own messages go. The CLI writes each as one `linkfwd: ...` line on stderr;
 * the library takes any implementation (tests collect lines in an array).
 */
export interface Logger {
  /** Something is wrong but linkfwd carries on. Suppressed by `--quiet`. */
  warn(message: string): void;
  /** linkfwd is about to fail. Always shown. */
  error(message: string): void;
}

/** Debug channels (`DEBUG=linkfwd:*` or `-v`). */
export const debugPlan = createDebug('linkfwd:plan');
export const debugForward = createDebug('linkfwd:forward');
export const debugSupervisor = createDebug('linkfwd:supervisor');

/** A logger that drops everything: the library default. */
export const silentLogger: Logger = { warn() {}, error() {} };

/** A logger writing `linkfwd: <message>` lines to a stream (stderr in the CLI). */
export function streamLogger(
  stream: NodeJS.WritableStream,
  options: { quiet?: boolean } = {},
): Logger {
  const write = (message: string) => {
    stream.write(`linkfwd: ${message}\n`);
  };
  return { warn: options.quiet === true ? () => {} : write, error: write };
}
