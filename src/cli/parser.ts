import yargs, { type Argv } from 'yargs';
import { OPTIONS, type OptionDef } from '../options/index.js';

const USAGE = [
  'Usage:',
  '  linkfwd [options] [--] <command> [args...]   run the app with its services on localhost',
  '  linkfwd [options]                            forward only, until SIGTERM/SIGINT',
  '  linkfwd --print [--json] [options]           show the plan, bind nothing',
  '',
  'Forwards come from -f specs, LINKFWD_FORWARD and Docker/Kubernetes link variables',
  '(<ALIAS>_PORT_<N>_TCP=tcp://<host>:<port>). Every option can also be set as LINKFWD_<NAME>.',
].join('\n');

/** Help text of one option: its description and, where there is one worth saying, the default. */
function describe(def: OptionDef<unknown>): string {
  const quiet = ['', 'none', 'all', 'off'];
  return quiet.includes(def.defaultText)
    ? def.describe
    : `${def.describe} [default: ${def.defaultText}]`;
}

/**
 * The yargs parser of linkfwd's command line, every option from the option table. It stops at
 * `--` or the first word that is not an option, and hands the rest over untouched (`argv['--']`).
 * Throws the usage error that `fail` makes rather than exiting.
 */
export function parser(argv: readonly string[], fail: (message: string, error?: Error) => never) {
  let y: Argv = yargs([...argv])
    .scriptName('linkfwd')
    // Our own -h/-V: yargs' built-ins would print and exit from inside the parser.
    .help(false)
    .version(false)
    .usage(USAGE)
    .parserConfiguration({
      'halt-at-non-option': true,
      'populate--': true,
      'parse-positional-numbers': false,
      'parse-numbers': false,
    });
  for (const def of Object.values(OPTIONS)) {
    y = y.option(def.flag, {
      alias: def.alias,
      type: def.kind === 'switch' ? 'boolean' : 'string',
      // One word per occurrence: a list flag must not swallow the app's command.
      ...(def.kind === 'list' ? { array: true, nargs: 1 } : {}),
      group: def.group,
      describe: describe(def),
    });
  }
  return y
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
    .fail((message: string | undefined, error: Error | undefined) =>
      fail(message ?? error?.message ?? 'bad usage', error),
    );
}
