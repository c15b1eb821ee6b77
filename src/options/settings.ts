import type { Env } from '../plan/index.js';
import { type OptionDef, type OptionSource, SETTING_OPTIONS, type Settings } from './table.js';
import { parseSwitch, splitList } from './values.js';

/** A flag's or a variable's raw value: text, several texts (repeated flags), or a switch. */
type Raw = string | readonly string[] | boolean | undefined;

/** Turns raw option values into settings, each through its option's parser. */
function settingsFrom(source: OptionSource, read: (def: OptionDef<unknown>) => Raw): Settings {
  const settings: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(SETTING_OPTIONS) as [string, OptionDef<unknown>][]) {
    const name = source === 'flag' ? `--${def.flag}` : (def.env ?? def.flag);
    const raw = read(def);
    if (raw === undefined) continue;
    if (def.kind === 'switch') {
      settings[key] = typeof raw === 'boolean' ? raw : parseSwitch(String(raw), name);
    } else if (def.kind === 'list') {
      const items = splitList(typeof raw === 'boolean' ? String(raw) : raw) ?? [];
      settings[key] = items.map((item) => def.parse?.(item, name, source) ?? item);
    } else {
      const value = Array.isArray(raw) ? String(raw.at(-1)) : String(raw);
      settings[key] = def.parse === undefined ? value : def.parse(value, name, source);
    }
  }
  return { ...settings, specs: (settings.specs as Settings['specs'] | undefined) ?? [] };
}

/**
 * Reads the `LINKFWD_*` variables of `env` into settings. An empty variable counts as unset;
 * other `LINKFWD_*` names are ignored.
 */
export function settingsFromEnv(env: Env): Settings {
  return settingsFrom('env', (def) => {
    const value = def.env === undefined ? undefined : env[def.env];
    return value === undefined || value.trim() === '' ? undefined : value;
  });
}

/** Settings from parsed flags, keyed by flag name (yargs' camel-case keys are not used). */
export function settingsFromFlags(flags: Readonly<Record<string, Raw>>): Settings {
  return settingsFrom('flag', (def) => flags[def.flag]);
}

/**
 * Flags beat env, env beats defaults — except specs: both sources are kept (the planner lets a
 * `-f` spec win over a `LINKFWD_FORWARD` one on the same address and port).
 */
export function mergeSettings(flags: Settings, env: Settings): Settings {
  const given = Object.entries(flags).filter(([, value]) => value !== undefined);
  return { ...env, ...Object.fromEntries(given), specs: [...flags.specs, ...env.specs] };
}
