import yargs, { type Argv } from 'yargs';
import { nearest, OPTIONS, type OptionDef } from '../options/index.js';

const USAGE = [
  'Usage:',
  '  linkfwd [options] [--] <command> [args...]',
  '      run the app with its services on localhost',
  '  linkfwd [options]',
  '      forward only, until SIGTERM, SIGINT or SIGHUP',
  '  linkfwd --print [--json] [options]',
  '      show the plan, bind nothing',
  '',
  'Forwards come from -f specs, LINKFWD_FORWARD and Docker or Kubernetes link',
  'variables (<ALIAS>_PORT_<N>_TCP=tcp://<host>:<port>). The options of the groups',
  'Forwards, Connections and Start-up can also be set as variables: --wait-timeout',
  'as LINKFWD_WAIT_TIMEOUT, and so on; switches take 1 or 0.',
].join('\n');

/** What a value placeholder means, for the help text. */
const LABELS: Readonly<Record<string, string>> = {
  SPEC: 'spec',
  ALIAS: 'alias',
  ADDR: 'IP address',
  DUR: 'duration',
  N: 'number',
};

/** Help text of one option: its description and, where there is one worth saying, the default. */
function describe(def: OptionDef<unknown, unknown>): string {
  const label = def.value === undefined ? '' : ` [${LABELS[def.value] ?? def.value}]`;
  const quiet = ['', 'none', 'all', 'off'];
  const fallback = quiet.includes(def.defaultText) ? '' : ` [default: ${def.defaultText}]`;
  return `${def.describe}${label}${fallback}`;
}

/** `Unknown argument: forwrd` gains `(did you mean --forward?)`. */
function suggest(message: string): string {
  const match = /^Unknown arguments?: (.+)$/.exec(message);
  if (match?.[1] === undefined) return message;
  const flags = Object.values(OPTIONS).map((def) => def.flag);
  const hints = match[1].split(', ').flatMap((word) => {
    const closest = nearest(word.replace(/^-+/, ''), flags);
    return closest === undefined ? [] : [`--${closest}`];
  });
  return hints.length === 0 ? message : `${message} (did you mean ${hints.join(', ')}?)`;
}

/**
 * The yargs parser of linkfwd's command line, every option from the option table. It stops at
 * `--` or the first word that is not an option, and hands the rest over untouched (`argv['--']`).
 * Throws the usage error that `fail` makes rather than exiting.
 */
export function parser(
  argv: readonly string[],
  width: number,
  fail: (message: string, error?: Error) => never,
) {
  // yargs 18 has usageConfiguration; its types (@types/yargs 17) do not know it yet.
  const withUsage = yargs([...argv]) as Argv & {
    usageConfiguration(config: { 'hide-types': boolean }): Argv;
  };
  // Types are shown by meaning in each description ([duration], [number]), not as [string].
  let y: Argv = withUsage
    .usageConfiguration({ 'hide-types': true })
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
    .wrap(width)
    .fail((message: string | undefined, error: Error | undefined) =>
      fail(suggest(message ?? error?.message ?? 'bad usage'), error),
    );
}
