/**
 * Every command-line option, once: its flag, its `LINKFWD_*` variable, how its text is parsed,
 * its default, its help group and its description. The yargs parser, the environment reader,
 * `--help`, the library's defaults and the README's option table (checked by a test) all come
 * from here.
 */

import { LinkfwdError } from '../errors.js';
import {
  DEFAULT_BIND,
  DEFAULT_EXCLUDE,
  type Endpoint,
  type ForwardSpec,
  parseForwardSpec,
} from '../plan/index.js';
import { parseDuration } from './duration.js';
import {
  parseBindAddress,
  parseCount,
  parseDialMode,
  parseFileMode,
  parseStatusAddress,
  parseThreads,
} from './values.js';

/** Where a value was given: a flag (`--connect-timeout`) or a variable (`LINKFWD_...`). */
export type OptionSource = 'flag' | 'env';

/** `T`: what `parse` gives for one text; `D`: the value (a list option's is `T[]`). */
export interface OptionDef<T, D = T> {
  /** The long flag, without dashes. */
  flag: string;
  /** A one-letter alias (`-f`). */
  alias?: string;
  /** The value's placeholder in help and README (`SPEC`, `DUR`); none for switches. */
  value?: string;
  /** The variable that sets the option too; none for options of one invocation (`--print`). */
  env?: string;
  /**
   * `switch` (`--wait`, `LINKFWD_WAIT=1`), `value` (one text), or `list` (repeatable flags;
   * items split on commas and spaces, in the flag and in the variable alike).
   */
  kind: 'switch' | 'value' | 'list';
  /** A list whose flag takes exactly one item each time (`-f`); only its variable is split. */
  onePerFlag?: true;
  /** Text to value; `name` (the flag or variable) goes into error messages. */
  parse?: (text: string, name: string, source: OptionSource) => T;
  /** The value the library uses when the option is not given. */
  default?: D;
  /** The default as the help text and the README table show it. */
  defaultText: string;
  group: 'Forwards:' | 'Connections:' | 'Start-up:' | 'Output:';
  describe: string;
}

const text = (value: string) => value;
const duration = (value: string, name: string) => parseDuration(value, name);
/** A spec; one from a variable names the variable in its error. */
function spec(value: string, name: string, source: OptionSource): ForwardSpec {
  try {
    return parseForwardSpec(value, { source });
  } catch (error) {
    if (source !== 'env' || !(error instanceof LinkfwdError)) throw error;
    throw new LinkfwdError(error.code, `${name}: ${error.message}`, {
      origin: error.origin,
      cause: error.cause,
    });
  }
}

/** The options that are settings: each has a variable and reaches {@link Settings}. */
export const SETTING_OPTIONS = {
  specs: {
    flag: 'forward',
    alias: 'f',
    value: 'SPEC',
    env: 'LINKFWD_FORWARD',
    kind: 'list',
    onePerFlag: true,
    parse: spec,
    defaultText: 'none',
    group: 'Forwards:',
    describe: 'forward [BIND:]PORT:HOST:PORT[/udp] or unix:/PATH:HOST:PORT (repeatable)',
  } satisfies OptionDef<ForwardSpec>,
  links: {
    flag: 'links',
    env: 'LINKFWD_LINKS',
    kind: 'switch',
    default: true,
    defaultText: 'on',
    group: 'Forwards:',
    describe: 'scan link variables (--no-links: off)',
  } satisfies OptionDef<boolean>,
  only: {
    flag: 'only',
    value: 'ALIAS',
    env: 'LINKFWD_ONLY',
    kind: 'list',
    parse: text,
    defaultText: 'all',
    group: 'Forwards:',
    describe: 'use only these link aliases (repeatable, comma ok)',
  } satisfies OptionDef<string>,
  exclude: {
    flag: 'exclude',
    value: 'ALIAS',
    env: 'LINKFWD_EXCLUDE',
    kind: 'list',
    parse: text,
    default: DEFAULT_EXCLUDE,
    defaultText: 'KUBERNETES',
    group: 'Forwards:',
    describe: 'ignore these link aliases, besides the default',
  } satisfies OptionDef<string, readonly string[]>,
  bind: {
    flag: 'bind',
    value: 'ADDR',
    env: 'LINKFWD_BIND',
    kind: 'list',
    parse: parseBindAddress,
    default: DEFAULT_BIND,
    defaultText: '127.0.0.1 and ::1',
    group: 'Forwards:',
    describe: 'listen address for specs without one (repeatable)',
  } satisfies OptionDef<string, readonly string[]>,
  allowMissing: {
    flag: 'allow-missing',
    env: 'LINKFWD_ALLOW_MISSING',
    kind: 'switch',
    default: false,
    defaultText: 'off',
    group: 'Forwards:',
    describe: 'an --only alias without link variables is a warning, not an error',
  } satisfies OptionDef<boolean>,
  strict: {
    flag: 'strict',
    env: 'LINKFWD_STRICT',
    kind: 'switch',
    default: false,
    defaultText: 'off',
    group: 'Forwards:',
    describe: 'problems with discovered forwards are fatal',
  } satisfies OptionDef<boolean>,
  unixMode: {
    flag: 'unix-mode',
    value: 'MODE',
    env: 'LINKFWD_UNIX_MODE',
    kind: 'value',
    parse: parseFileMode,
    defaultText: 'from the umask',
    group: 'Forwards:',
    describe: 'permissions of Unix-socket listeners, octal (0660)',
  } satisfies OptionDef<number>,
  mkdir: {
    flag: 'mkdir',
    env: 'LINKFWD_MKDIR',
    kind: 'switch',
    default: false,
    defaultText: 'off',
    group: 'Forwards:',
    describe: "create a Unix-socket listener's missing directories",
  } satisfies OptionDef<boolean>,
  connectTimeout: {
    flag: 'connect-timeout',
    value: 'DUR',
    env: 'LINKFWD_CONNECT_TIMEOUT',
    kind: 'value',
    parse: duration,
    default: 10_000,
    defaultText: '10s',
    group: 'Connections:',
    describe: 'upstream dial timeout',
  } satisfies OptionDef<number>,
  idleTimeout: {
    flag: 'idle-timeout',
    value: 'DUR',
    env: 'LINKFWD_IDLE_TIMEOUT',
    kind: 'value',
    parse: duration,
    default: 0,
    defaultText: '0 (off)',
    group: 'Connections:',
    describe: 'close connections idle this long',
  } satisfies OptionDef<number>,
  maxConnections: {
    flag: 'max-connections',
    value: 'N',
    env: 'LINKFWD_MAX_CONNECTIONS',
    kind: 'value',
    parse: parseCount,
    default: 4096,
    defaultText: '4096 per forward',
    group: 'Connections:',
    describe: 'per forward (UDP: flows); beyond it new clients are reset',
  } satisfies OptionDef<number>,
  udpIdleTimeout: {
    flag: 'udp-idle-timeout',
    value: 'DUR',
    env: 'LINKFWD_UDP_IDLE_TIMEOUT',
    kind: 'value',
    parse: duration,
    default: 60_000,
    defaultText: '60s',
    group: 'Connections:',
    describe: 'forget a UDP flow idle this long',
  } satisfies OptionDef<number>,
  threads: {
    flag: 'threads',
    value: 'N',
    env: 'LINKFWD_THREADS',
    kind: 'value',
    parse: parseThreads,
    default: 'auto',
    defaultText: 'auto (usable CPUs − 1, 1 to 4)',
    group: 'Connections:',
    describe: 'forwarding threads, each listening on every TCP port (Node 22.12+)',
  } satisfies OptionDef<number | 'auto'>,
  wait: {
    flag: 'wait',
    env: 'LINKFWD_WAIT',
    kind: 'switch',
    default: false,
    defaultText: 'off',
    group: 'Start-up:',
    describe: 'wait until every target accepts TCP before starting the app',
  } satisfies OptionDef<boolean>,
  waitTimeout: {
    flag: 'wait-timeout',
    value: 'DUR',
    env: 'LINKFWD_WAIT_TIMEOUT',
    kind: 'value',
    parse: duration,
    default: 30_000,
    defaultText: '30s',
    group: 'Start-up:',
    describe: 'give up waiting after this long (exit 125)',
  } satisfies OptionDef<number>,
  dial: {
    flag: 'dial',
    value: 'WHAT',
    env: 'LINKFWD_DIAL',
    kind: 'value',
    parse: parseDialMode,
    default: 'address',
    defaultText: 'address',
    group: 'Forwards:',
    describe: "link forwards dial the value's address, or the link alias as a host name",
  } satisfies OptionDef<'address' | 'alias'>,
  status: {
    flag: 'status',
    value: 'ADDR:PORT',
    env: 'LINKFWD_STATUS',
    kind: 'value',
    parse: parseStatusAddress,
    defaultText: 'off',
    group: 'Start-up:',
    describe: 'serve /healthz, /readyz and /metrics here (PORT alone: 127.0.0.1)',
  } satisfies OptionDef<Endpoint>,
} as const;

/** Options of one invocation only: no variable, no setting. */
const OUTPUT_OPTIONS = {
  print: {
    flag: 'print',
    kind: 'switch',
    defaultText: '',
    group: 'Output:',
    describe: 'print the plan and exit',
  },
  json: {
    flag: 'json',
    kind: 'switch',
    defaultText: '',
    group: 'Output:',
    describe: 'with --print: one JSON object',
  },
  verbose: {
    flag: 'verbose',
    alias: 'v',
    kind: 'switch',
    defaultText: '',
    group: 'Output:',
    describe: 'debug lines on stderr',
  },
  quiet: {
    flag: 'quiet',
    alias: 'q',
    kind: 'switch',
    defaultText: '',
    group: 'Output:',
    describe: 'no warnings',
  },
  help: {
    flag: 'help',
    alias: 'h',
    kind: 'switch',
    defaultText: '',
    group: 'Output:',
    describe: 'show this help',
  },
  version: {
    flag: 'version',
    alias: 'V',
    kind: 'switch',
    defaultText: '',
    group: 'Output:',
    describe: 'show the version',
  },
} as const satisfies Record<string, OptionDef<never>>;

/** The one table: settings first, then the options of one invocation. */
export const OPTIONS: Readonly<Record<string, OptionDef<unknown, unknown>>> = {
  ...SETTING_OPTIONS,
  ...OUTPUT_OPTIONS,
};

type SettingKey = keyof typeof SETTING_OPTIONS;
type ValueOf<K extends SettingKey> = (typeof SETTING_OPTIONS)[K] extends { kind: 'switch' }
  ? boolean
  : (typeof SETTING_OPTIONS)[K] extends { kind: 'list'; parse: (...a: never[]) => infer T }
    ? T[]
    : (typeof SETTING_OPTIONS)[K] extends { parse: (...a: never[]) => infer T }
      ? T
      : never;

/**
 * linkfwd's settings, from flags, `LINKFWD_*` variables and defaults (flags beat env, env beats
 * defaults). Durations are in milliseconds. `undefined` means "not set here".
 */
export type Settings = { specs: ForwardSpec[] } & {
  [K in Exclude<SettingKey, 'specs'>]?: ValueOf<K> | undefined;
};

/** What the library uses for a setting nobody gave. */
export const DEFAULTS = {
  links: SETTING_OPTIONS.links.default,
  exclude: SETTING_OPTIONS.exclude.default,
  bind: SETTING_OPTIONS.bind.default,
  allowMissing: SETTING_OPTIONS.allowMissing.default,
  strict: SETTING_OPTIONS.strict.default,
  mkdir: SETTING_OPTIONS.mkdir.default,
  connectTimeout: SETTING_OPTIONS.connectTimeout.default,
  idleTimeout: SETTING_OPTIONS.idleTimeout.default,
  maxConnections: SETTING_OPTIONS.maxConnections.default,
  udpIdleTimeout: SETTING_OPTIONS.udpIdleTimeout.default,
  threads: SETTING_OPTIONS.threads.default,
  wait: SETTING_OPTIONS.wait.default,
  waitTimeout: SETTING_OPTIONS.waitTimeout.default,
  dial: SETTING_OPTIONS.dial.default,
} as const;
