import yargs from 'yargs';
import {
  mergeSettings,
  parseBindAddress,
  parseCount,
  type Settings,
  settingsFromEnv,
  splitList,
} from './config.js';
import { parseDuration } from './duration.js';
import { EXIT_LINKFWD_FAILED, isLinkfwdError, LinkfwdError } from './errors.js';
import { loadDebug, streamLogger } from './log.js';
import { run } from './run.js';
import { parseForwardSpec } from './spec.js';
import { version } from './version.js';

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const GROUP_FORWARDS = 'Forwards:';
const GROUP_CONNECTIONS = 'Connections:';
const GROUP_START = 'Start-up:';
const GROUP_OUTPUT = 'Output:';

function parser(argv: readonly string[]) {
  return (
    yargs([...argv])
      .scriptName('linkfwd')
      // Our own -h/-V: yargs' built-ins would print and exit from inside the parser.
      .help(false)
      .version(false)
      .usage(
        [
          'Usage:',
          '  linkfwd [options] [--] <command> [args...]   run the app with its services on localhost',
          '  linkfwd [options]                            forward only, until SIGTERM/SIGINT',
          '  linkfwd --print [--json] [options]           show the plan, bind nothing',
          '',
          'Forwards come from -f specs, LINKFWD_FORWARD and Docker/Kubernetes link variables',
          '(<ALIAS>_PORT_<N>_TCP=tcp://<host>:<port>). Every option can also be set as LINKFWD_<NAME>.',
        ].join('\n'),
      )
      .parserConfiguration({
        'halt-at-non-option': true,
        'populate--': true,
        'parse-positional-numbers': false,
        'parse-numbers': false,
      })
      .option('forward', {
        alias: 'f',
        type: 'string',
        array: true,
        nargs: 1,
        group: GROUP_FORWARDS,
        describe: 'forward [BIND:]PORT:HOST:PORT (repeatable)',
      })
      .option('links', {
        type: 'boolean',
        group: GROUP_FORWARDS,
        describe: 'scan link variables (--no-links: off) [default: on]',
      })
      .option('only', {
        type: 'string',
        array: true,
        nargs: 1,
        group: GROUP_FORWARDS,
        describe: 'use only these link aliases (repeatable, comma ok)',
      })
      .option('exclude', {
        type: 'string',
        array: true,
        nargs: 1,
        group: GROUP_FORWARDS,
        describe: 'ignore these link aliases [default: KUBERNETES]',
      })
      .option('bind', {
        type: 'string',
        array: true,
        nargs: 1,
        group: GROUP_FORWARDS,
        describe: 'listen address for specs without one [default: 127.0.0.1 and ::1]',
      })
      .option('strict', {
        type: 'boolean',
        group: GROUP_FORWARDS,
        describe: 'problems with discovered forwards are fatal',
      })
      .option('connect-timeout', {
        type: 'string',
        group: GROUP_CONNECTIONS,
        describe: 'upstream dial timeout [default: 10s]',
      })
      .option('idle-timeout', {
        type: 'string',
        group: GROUP_CONNECTIONS,
        describe: 'close connections idle this long [default: 0, off]',
      })
      .option('max-connections', {
        type: 'string',
        group: GROUP_CONNECTIONS,
        describe: 'per forward; beyond it clients are reset [default: 4096]',
      })
      .option('wait', {
        type: 'boolean',
        group: GROUP_START,
        describe: 'wait until every target accepts TCP before starting the app',
      })
      .option('wait-timeout', {
        type: 'string',
        group: GROUP_START,
        describe: 'give up waiting after this long (exit 125) [default: 30s]',
      })
      .option('print', {
        type: 'boolean',
        group: GROUP_OUTPUT,
        describe: 'print the plan and exit',
      })
      .option('json', {
        type: 'boolean',
        group: GROUP_OUTPUT,
        describe: 'with --print: one JSON object',
      })
      .option('verbose', {
        alias: 'v',
        type: 'boolean',
        group: GROUP_OUTPUT,
        describe: 'debug lines on stderr',
      })
      .option('quiet', {
        alias: 'q',
        type: 'boolean',
        group: GROUP_OUTPUT,
        describe: 'no warnings',
      })
      .option('help', {
        alias: 'h',
        type: 'boolean',
        group: GROUP_OUTPUT,
        describe: 'show this help',
      })
      .option('version', {
        alias: 'V',
        type: 'boolean',
        group: GROUP_OUTPUT,
        describe: 'show the version',
      })
      .example(
        'linkfwd -f 5432:db:5432 -- node app.js',
        'localhost:5432 reaches db:5432 while the app runs',
      )
      .example('linkfwd --only db -- ./server', 'forward only the DB_PORT_*_TCP link variables')
      .example(
        'linkfwd -f 0.0.0.0:6379:10.0.0.5:6379',
        'an ambassador: forward only, exposed on purpose',
      )
      .example('linkfwd --print --json', 'show what would listen where')
      .epilogue(
        "Exit status: the app's own; 128+n if it was killed by signal n; 127 command not found; 126 not executable; 125 linkfwd failed.",
      )
      .strict()
      .exitProcess(false)
      .wrap(Math.min(100, process.stdout.columns ?? 100))
      .fail((message: string | undefined, error: Error | undefined) => {
        throw new LinkfwdError(
          'ERR_LINKFWD_USAGE',
          `${message ?? error?.message ?? 'bad usage'} (see --help)`,
          {
            cause: error,
          },
        );
      })
  );
}

/**
 * The command line: argv and environment in, exit status out. Writes only `--help`,
 * `--version` and `--print` to stdout; every failure is one `linkfwd:` line on stderr.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  // The app receives the environment exactly as linkfwd got it, before `-v` sets DEBUG.
  const childEnv = { ...io.env };
  let verbose = false;
  const logger = streamLogger(io.stderr, {
    quiet: argv.includes('-q') || argv.includes('--quiet'),
  });
  try {
    const y = parser(argv);
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
    const quiet = args.quiet === true;
    const flags: Settings = {
      specs: (splitList(args.forward) ?? []).map((text) =>
        parseForwardSpec(text, { source: 'flag' }),
      ),
      links: args.links,
      only: splitList(args.only),
      exclude: splitList(args.exclude),
      bind: splitList(args.bind)?.map((b) => parseBindAddress(b, '--bind')),
      connectTimeout: optional(args.connectTimeout, (v) => parseDuration(v, '--connect-timeout')),
      idleTimeout: optional(args.idleTimeout, (v) => parseDuration(v, '--idle-timeout')),
      maxConnections: optional(args.maxConnections, (v) => parseCount(v, '--max-connections')),
      wait: args.wait,
      waitTimeout: optional(args.waitTimeout, (v) => parseDuration(v, '--wait-timeout')),
      strict: args.strict,
    };
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
      logger: streamLogger(io.stderr, { quiet }),
    });
  } catch (error) {
    if (isLinkfwdError(error)) {
      logger.error(error.message);
      if (verbose && error.cause instanceof Error && error.cause.stack)
        io.stderr.write(`${error.cause.stack}\n`);
      return error.exitStatus;
    }
    logger.error(`internal error: ${error instanceof Error ? error.message : String(error)}`);
    if (verbose && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return EXIT_LINKFWD_FAILED;
  }
}

function optional<T>(value: string | undefined, parse: (text: string) => T): T | undefined {
  return value === undefined ? undefined : parse(value);
}
