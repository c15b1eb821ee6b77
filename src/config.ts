import { parseDuration } from './duration.js';
import { LinkfwdError } from './errors.js';
import type { Env } from './link-env.js';
import { type ForwardSpec, isIPLiteral, parseForwardSpec } from './spec.js';

/**
 * linkfwd's settings, from flags, `LINKFWD_*` variables and defaults (flags beat env, env beats
 * defaults). Durations are in milliseconds. `undefined` means "not set here".
 */
export interface Settings {
  /** Explicit specs; `-f` ones have source `flag`, `LINKFWD_FORWARD` ones source `env`. */
  specs: ForwardSpec[];
  links?: boolean | undefined;
  only?: string[] | undefined;
  exclude?: string[] | undefined;
  bind?: string[] | undefined;
  connectTimeout?: number | undefined;
  idleTimeout?: number | undefined;
  maxConnections?: number | undefined;
  wait?: boolean | undefined;
  waitTimeout?: number | undefined;
  strict?: boolean | undefined;
}

/** The variables linkfwd reads; any other `LINKFWD_*` is ignored. */
export const ENV_VARIABLES = [
  'LINKFWD_FORWARD',
  'LINKFWD_LINKS',
  'LINKFWD_ONLY',
  'LINKFWD_EXCLUDE',
  'LINKFWD_BIND',
  'LINKFWD_CONNECT_TIMEOUT',
  'LINKFWD_IDLE_TIMEOUT',
  'LINKFWD_MAX_CONNECTIONS',
  'LINKFWD_WAIT',
  'LINKFWD_WAIT_TIMEOUT',
  'LINKFWD_STRICT',
] as const;

/** Splits `a, b c` and repeated flags (`--only a,b --only c`) into `['a', 'b', 'c']`. */
export function splitList(values: readonly string[] | string | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const list = (typeof values === 'string' ? [values] : values).flatMap((v) => v.split(/[\s,]+/));
  return list.filter((item) => item !== '');
}

/** `1`/`true`/`yes`/`on` and `0`/`false`/`no`/`off` (any case); empty means unset. */
export function parseSwitch(text: string | undefined, name: string): boolean | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const value = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw usage(`${name}: expected 1 or 0, got ${JSON.stringify(text)}`, name);
}

/** A positive whole number (`--max-connections`). */
export function parseCount(text: string, name: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(text.trim())) {
    throw usage(`${name}: expected a positive whole number, got ${JSON.stringify(text)}`, name);
  }
  return Number(text.trim());
}

/** An IP literal to listen on; brackets around IPv6 are allowed. Host names are refused. */
export function parseBindAddress(text: string, name: string): string {
  const host = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (!isIPLiteral(host)) {
    throw usage(
      `${name}: ${JSON.stringify(text)} is not an IP address (e.g. 127.0.0.1, ::1, 0.0.0.0)`,
      name,
    );
  }
  return host;
}

/** Reads the `LINKFWD_*` variables of `env` into settings. Unknown `LINKFWD_*` names are ignored. */
export function settingsFromEnv(env: Env): Settings {
  const get = (name: (typeof ENV_VARIABLES)[number]) => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value;
  };
  const duration = (name: (typeof ENV_VARIABLES)[number]) => {
    const value = get(name);
    return value === undefined ? undefined : parseDuration(value, name);
  };
  const max = get('LINKFWD_MAX_CONNECTIONS');
  return {
    specs: (splitList(get('LINKFWD_FORWARD')) ?? []).map((text) =>
      parseForwardSpec(text, { source: 'env' }),
    ),
    links: parseSwitch(get('LINKFWD_LINKS'), 'LINKFWD_LINKS'),
    only: splitList(get('LINKFWD_ONLY')),
    exclude: splitList(get('LINKFWD_EXCLUDE')),
    bind: splitList(get('LINKFWD_BIND'))?.map((b) => parseBindAddress(b, 'LINKFWD_BIND')),
    connectTimeout: duration('LINKFWD_CONNECT_TIMEOUT'),
    idleTimeout: duration('LINKFWD_IDLE_TIMEOUT'),
    maxConnections: max === undefined ? undefined : parseCount(max, 'LINKFWD_MAX_CONNECTIONS'),
    wait: parseSwitch(get('LINKFWD_WAIT'), 'LINKFWD_WAIT'),
    waitTimeout: duration('LINKFWD_WAIT_TIMEOUT'),
    strict: parseSwitch(get('LINKFWD_STRICT'), 'LINKFWD_STRICT'),
  };
}

/**
 * Flags beat env, env beats defaults — except specs: both sources are kept (the planner lets a
 * `-f` spec win over a `LINKFWD_FORWARD` one on the same address and port).
 */
export function mergeSettings(flags: Settings, env: Settings): Settings {
  const given = Object.entries(flags).filter(([, value]) => value !== undefined);
  return { ...env, ...Object.fromEntries(given), specs: [...flags.specs, ...env.specs] };
}

function usage(message: string, origin: string): LinkfwdError {
  return new LinkfwdError('ERR_LINKFWD_USAGE', message, { origin });
}
