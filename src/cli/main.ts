import { isUtf8 } from 'node:buffer';
import { EXIT_LINKFWD_FAILED, isLinkfwdError, LinkfwdError } from '../errors.js';
import { type Logger, loadDebug, streamLogger } from '../log.js';
import { mergeSettings, settingsFromEnv, settingsFromFlags } from '../options/index.js';
import { run } from '../run.js';
import { parser } from './parser.js';
import { version } from './version.js';

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Names of the variables in `env` that were not valid UTF-8 (cli/env-snapshot.ts). */
  nonUtf8Variables?: readonly string[];
  /** The last `count` words of the process's command line as bytes, where known. */
  rawCommandLine?: (count: number) => Buffer[] | undefined;
}

/**
 * The command line: argv and environment in, exit status out. Writes only `--help`,
 * `--version` and `--print` to stdout; every failure is one `linkfwd:` line on stderr.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  // The app receives the environment exactly as linkfwd got it: `-v` sets DEBUG in
  // `process.env`, so that one is copied first. bin.ts passes a snapshot, which nothing changes
  // (a copy of 100,000 variables would cost about a second).
  const childEnv = io.env === process.env ? { ...io.env } : io.env;
  let verbose = false;
  // Errors are shown whatever `-q` says; only warnings wait for the parsed options.
  const errors = streamLogger(io.stderr);
  try {
    const y = parser(argv, helpWidth(io.stdout), (message, error) => {
      throw new LinkfwdError('ERR_LINKFWD_USAGE', `${message} (see --help)`, { cause: error });
    });
    const args = await y.parseAsync();
    if (args.help === true) {
      io.stdout.write(`${await y.getHelp()}\n`);
      return 0;
    }
    if (args.version === true) {
      io.stdout.write(`${version()}\n`);
      return 0;
    }
    verbose = args.verbose === true;
    if (verbose || io.env.DEBUG) {
      const createDebug = await loadDebug();
      if (verbose) createDebug.enable(['linkfwd:*', io.env.DEBUG].filter(Boolean).join(','));
    }
    const logger = streamLogger(io.stderr, { quiet: args.quiet === true });
    const flags = settingsFromFlags(args as Parameters<typeof settingsFromFlags>[0]);
    const fromEnv = settingsFromEnv(io.env, flags);
    for (const warning of fromEnv.warnings) logger.warn(warning);
    const { specs, ...settings } = mergeSettings(flags, fromEnv.settings);
    if (args.json === true && args.print !== true) {
      throw new LinkfwdError('ERR_LINKFWD_USAGE', '--json goes with --print');
    }
    const command = ((args['--'] ?? []) as unknown[]).map(String);
    if (command.length > 0) warnNonUtf8(io, command.length, logger);
    return await run({
      ...settings,
      forwards: specs,
      command,
      env: childEnv,
      print: args.print === true ? (args.json === true ? 'json' : 'table') : undefined,
      stdout: io.stdout,
      logger,
    });
  } catch (error) {
    if (isLinkfwdError(error)) {
      errors.error(error.message);
      if (verbose && error.cause instanceof Error && error.cause.stack)
        io.stderr.write(`${error.cause.stack}\n`);
      return error.exitStatus;
    }
    errors.error(`internal error: ${error instanceof Error ? error.message : String(error)}`);
    if (verbose && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return EXIT_LINKFWD_FAILED;
  }
}

/**
 * Node hands the app strings: bytes that are not valid UTF-8, in an argument or a variable,
 * reach it as U+FFFD. Say so once, naming the positions and names, never the values.
 */
function warnNonUtf8(io: CliIo, count: number, logger: Logger): void {
  const words = io.rawCommandLine?.(count) ?? [];
  const positions = words.flatMap((word, i) => (isUtf8(word) ? [] : [i]));
  const names = io.nonUtf8Variables ?? [];
  const parts = [
    positions.length > 0 && `argument ${positions.join(', ')} of the command (0 is the command)`,
    names.length > 0 && `variable ${names.join(', ')}`,
  ].filter(Boolean);
  if (parts.length === 0) return;
  logger.warn(`${parts.join(' and ')}: not valid UTF-8; the app receives U+FFFD for those bytes`);
}

/** The terminal's width, or 80 when stdout is not a terminal (a pipe, a file). */
function helpWidth(stdout: NodeJS.WritableStream): number {
  const { isTTY, columns } = stdout as Partial<NodeJS.WriteStream>;
  return isTTY === true && columns !== undefined && columns > 0 ? Math.min(columns, 120) : 80;
}
