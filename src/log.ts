import type { Debugger } from 'debug';

type DebugModule = typeof import('debug').default;

/**
 * Where linkfwd's own messages go. The CLI writes each as one `linkfwd: ...` line on stderr;
 * the library takes any implementation (tests collect lines in an array).
 */
export interface Logger {
  /** Something is wrong but linkfwd carries on. Suppressed by `--quiet`. */
  warn(message: string): void;
  /** linkfwd is about to fail. Always shown. */
  error(message: string): void;
  /** What linkfwd is doing, when nothing else would say it (forward-only mode). Not with `--quiet`. */
  info?(message: string): void;
}

let debugModule: DebugModule | undefined;
let loading: Promise<DebugModule> | undefined;

/**
 * Loads `debug`, which reads `DEBUG`; until then every channel is silent. Loaded only when
 * wanted (`-v`, or `DEBUG` set): when it loads, `debug` enumerates `process.env`, and each key
 * costs a scan of the environment, so a start-up among 100,000 variables would take seconds.
 */
export function loadDebug(): Promise<DebugModule> {
  loading ??= import('debug').then((module) => {
    debugModule = module.default;
    return debugModule;
  });
  return loading;
}

/**
 * Loads `debug` if this process has `DEBUG` set, so that a library user's `DEBUG=linkfwd:*`
 * works without the CLI. Called by the library's entry points, never at import. One getenv(),
 * not an enumeration.
 */
export function loadDebugIfWanted(): Promise<unknown> {
  return process.env.DEBUG ? loadDebug() : Promise.resolve();
}

type DebugChannel = (formatter: string, ...args: unknown[]) => void;

function channel(namespace: string): DebugChannel {
  let instance: Debugger | undefined;
  return (formatter, ...args) => {
    if (debugModule === undefined) return;
    instance ??= debugModule(namespace);
    // Arguments name variables, as warnings do: no raw control characters.
    instance(formatter, ...args.map((arg) => (typeof arg === 'string' ? escapeControl(arg) : arg)));
  };
}

/** Debug channels (`DEBUG=linkfwd:*` or `-v`). */
export const debugPlan = channel('linkfwd:plan');
export const debugForward = channel('linkfwd:forward');
export const debugSupervisor = channel('linkfwd:supervisor');

/** A logger that drops everything: the library default. */
export const silentLogger: Logger = { warn() {}, error() {} };

/** A logger writing `linkfwd: <message>` lines to a stream (stderr in the CLI). */
export function streamLogger(
  stream: NodeJS.WritableStream,
  options: { quiet?: boolean } = {},
): Logger {
  const write = (message: string) => {
    stream.write(`linkfwd: ${escapeControl(message)}\n`);
  };
  const quiet = () => {};
  return options.quiet === true
    ? { warn: quiet, error: write, info: quiet }
    : { warn: write, error: write, info: write };
}

/**
 * Writes control characters (C0, DEL, C1) as `\\uXXXX`: a message names variables, and a
 * variable name from a hostile environment must not end the line early, forge a `linkfwd:` line
 * or send escape sequences to a terminal.
 */
export function escapeControl(text: string): string {
  return text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The `debug` namespaces enabled in this thread, if any: forwarding threads enable the same. */
export function debugNamespaces(): string | undefined {
  const namespaces = (debugModule as { namespaces?: string } | undefined)?.namespaces;
  return namespaces === undefined || namespaces === '' ? undefined : namespaces;
}
