import { isLinkfwdError } from '../errors.js';
import type { Env } from '../plan/index.js';
import {
  OPTIONS,
  type OptionDef,
  type OptionSource,
  SETTING_OPTIONS,
  type Settings,
} from './table.js';
import { parseSwitch, splitList } from './values.js';

/** A flag's or a variable's raw value: text, several texts (repeated flags), or a switch. */
type Raw = string | readonly string[] | boolean | undefined;

/** Settings, and what was wrong but not fatal (one line each). */
export interface ReadSettings {
  settings: Settings;
  warnings: string[];
}

/**
 * Turns raw option values into settings, each through its option's parser. A value that does
 * not parse throws, unless its key is in `tolerated`: then it is left out with a warning.
 */
function settingsFrom(
  source: OptionSource,
  read: (def: OptionDef<unknown, unknown>) => Raw,
  tolerated: ReadonlySet<string> = new Set(),
): ReadSettings {
  const settings: Record<string, unknown> = {};
  const warnings: string[] = [];
  const defs = Object.entries(SETTING_OPTIONS) as [string, OptionDef<unknown, unknown>][];
  for (const [key, def] of defs) {
    const name = source === 'flag' ? `--${def.flag}` : (def.env ?? def.flag);
    const raw = read(def);
    if (raw === undefined) continue;
    try {
      settings[key] = parseRaw(def, raw, name, source);
    } catch (error) {
      if (!tolerated.has(key) || !isLinkfwdError(error)) throw error;
      warnings.push(`${error.message} (ignored: --${def.flag} is given)`);
    }
  }
  const specs = (settings.specs as Settings['specs'] | undefined) ?? [];
  return { settings: { ...settings, specs }, warnings };
}

function parseRaw(
  def: OptionDef<unknown, unknown>,
  raw: Exclude<Raw, undefined>,
  name: string,
  source: OptionSource,
) {
  if (def.kind === 'switch') return typeof raw === 'boolean' ? raw : parseSwitch(String(raw), name);
  if (def.kind === 'list') {
    const texts = typeof raw === 'boolean' ? [String(raw)] : typeof raw === 'string' ? [raw] : raw;
    const items = def.onePerFlag && source === 'flag' ? [...texts] : (splitList(texts) ?? []);
    return items.map((item) => def.parse?.(item, name, source) ?? item);
  }
  const value = Array.isArray(raw) ? String(raw.at(-1)) : String(raw);
  return def.parse === undefined ? value : def.parse(value, name, source);
}

/**
 * Reads the `LINKFWD_*` variables of `env` into settings. An empty variable counts as unset.
 * A bad value throws, unless a flag overrides it (`overridden`: the keys the flags set): flags
 * beat variables, so it is then only a warning. An unknown `LINKFWD_*` name is a warning that
 * suggests the closest known one.
 */
export function settingsFromEnv(
  env: Env,
  overridden: Settings | undefined = undefined,
): ReadSettings {
  const tolerated = new Set(
    Object.entries(overridden ?? {})
      .filter(([key, value]) => key !== 'specs' && value !== undefined)
      .map(([key]) => key),
  );
  const read = settingsFrom(
    'env',
    (def) => {
      const value = def.env === undefined ? undefined : env[def.env];
      return value === undefined || value.trim() === '' ? undefined : value;
    },
    tolerated,
  );
  read.warnings.push(...unknownVariables(env));
  return read;
}

/** Settings from parsed flags, keyed by flag name (yargs' camel-case keys are not used). */
export function settingsFromFlags(flags: Readonly<Record<string, Raw>>): Settings {
  return settingsFrom('flag', (def) => flags[def.flag]).settings;
}

/**
 * Flags beat env, env beats defaults — except specs: both sources are kept (the planner lets a
 * `-f` spec win over a `LINKFWD_FORWARD` one on the same address and port).
 */
export function mergeSettings(flags: Settings, env: Settings): Settings {
  const given = Object.entries(flags).filter(([, value]) => value !== undefined);
  return { ...env, ...Object.fromEntries(given), specs: [...flags.specs, ...env.specs] };
}

/** One warning per `LINKFWD_*` variable that is no setting, with the closest known name. */
function unknownVariables(env: Env): string[] {
  const known = Object.values(SETTING_OPTIONS).map((def) => def.env);
  const warnings: string[] = [];
  for (const name of Object.keys(env)) {
    if (!name.startsWith('LINKFWD_') || known.includes(name)) continue;
    const flag = name.slice('LINKFWD_'.length).toLowerCase().replaceAll('_', '-');
    if (OPTIONS[flag] !== undefined) {
      warnings.push(`${name} is not read: --${flag} has no variable`);
      continue;
    }
    const closest = nearest(name, known);
    warnings.push(
      `${name} is not a linkfwd variable${closest ? ` (did you mean ${closest}?)` : ''}`,
    );
  }
  return warnings;
}

/** The candidate closest to `word` by edit distance, if it is close enough to be a typo. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 4)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
