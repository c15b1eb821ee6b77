import { EXIT_LINKFWD_FAILED, isLinkfwdError, LinkfwdError } from '../errors.js';
import { loadDebug, streamLogger } from '../log.js';
import { mergeSettings, settingsFromEnv, settingsFromFlags } from '../options/index.js';
import { run } from '../run.js';
import { parser } from './parser.js';
import { version } from './version.js';

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/**
 * The command line: argv and environment in, exit status out. Writes only `--help`,
 * `--version` and `--print` to stdout; every failure is one `linkfwd:` line on stderr.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  // The app receives the environment exactly as linkfwd got it, before `-v` sets DEBUG.
  const childEnv = { ...io.env };
  let verbose = false;
  // Errors are shown whatever `-q` says; only warnings wait for the parsed options.
  const errors = streamLogger(io.stderr);
  try {
    const y = parser(argv, (message, error) => {
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
    const flags = settingsFromFlags(args as Parameters<typeof settingsFromFlags>[0]);
    const { specs, ...settings } = mergeSettings(flags, settingsFromEnv(io.env));
    if (args.json === true && args.print !== true) {
      throw new LinkfwdError('ERR_LINKFWD_USAGE', '--json goes with --print');
    }
    const command = ((args['--'] ?? []) as unknown[]).map(String);
    return await run({
      ...settings,
      forwards: specs,
      command,
      env: childEnv,
      print: args.print === true ? (args.json === true ? 'json' : 'table') : undefined,
      stdout: io.stdout,
      logger: streamLogger(io.stderr, { quiet: args.quiet === true }),
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
