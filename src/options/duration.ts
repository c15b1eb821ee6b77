import { LinkfwdError } from '../errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;

/**
 * Parses `500ms`, `10s`, `2m`, `1h` or a bare number of seconds into milliseconds (rounded to
 * a whole millisecond). `0` is allowed and means "off" where an option says so. Throws
 * ERR_LINKFWD_BAD_DURATION naming `name` for anything else: negatives, `1e3`, empty text.
 */
export function parseDuration(text: string, name: string): number {
  const match = DURATION.exec(text.trim());
  const value = match ? Number(match[1]) * (UNITS[match[2] ?? 's'] ?? 1000) : Number.NaN;
  if (!Number.isFinite(value) || value > 2 ** 31 - 1) {
    throw new LinkfwdError(
      'ERR_LINKFWD_BAD_DURATION',
      `${name}: invalid duration ${JSON.stringify(text)} (expected e.g. 500ms, 10s, 2m, 1h)`,
      { origin: name },
    );
  }
  return Math.round(value);
}

/** `1500` → `1.5s`, `250` → `250ms`: the shortest readable form, for messages. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}
