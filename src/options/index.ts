/** Options and settings, pure: the option table, value parsers, flags and variables to settings. */
export { formatDuration } from './duration.js';
export {
  mergeSettings,
  nearest,
  settingsFromEnv,
  settingsFromFlags,
} from './settings.js';
export { DEFAULTS, OPTIONS, type OptionDef, type Settings } from './table.js';
