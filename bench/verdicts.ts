/**
 * linkfwd's ratios and the verdicts on its targets. Both are for the default mode (`linkfwd`,
 * as a user runs it) unless a ratio names another mode.
 */
import type { Metric, RatioTarget, Target } from './case.js';
import type { ModeName } from './modes.js';

/** The median of `metric` in `mode` (NaN when there is none). */
export type Medians = (metric: string, mode: ModeName) => number;

/** `of` ÷ `vs` on `m` (or on the metric a ratio target names, for `vs`). */
export function ratio(
  med: Medians,
  m: Metric,
  vs: ModeName,
  of: ModeName = 'linkfwd',
  denominator = m.id,
): number {
  return med(m.id, of) / med(denominator, vs);
}

export function formatRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : '—';
}

const isRatio = (t: Target): t is RatioTarget => !('lossless' in t);

function verdict(med: Medians, m: Metric, t: Target): string {
  if (!isRatio(t)) {
    const direct = med(m.id, 'direct');
    const linkfwd = med(m.id, 'linkfwd');
    if (!Number.isFinite(direct) || !Number.isFinite(linkfwd)) return '?';
    // The target holds only under a load that direct delivery itself does not lose.
    if (direct > 0) return '? direct lost too';
    return linkfwd === 0 ? 'met' : 'MISSED';
  }
  const name = t.name ?? t.vs;
  const r = ratio(med, m, t.vs, 'linkfwd', t.metric ?? m.id);
  if (!Number.isFinite(r)) return `? ${name}`;
  const met = m.better === 'higher' ? r >= t.ratio : r <= t.ratio;
  return `${met ? 'met' : 'MISSED'} ${name}`;
}

/** The verdict on each of the metric's targets, e.g. `met socat, MISSED haproxy`. */
export function verdicts(med: Medians, m: Metric): string {
  return (m.targets ?? []).map((t) => verdict(med, m, t)).join(', ');
}

/** The targets as the table states them, e.g. `≥1.1× socat, ≥1× haproxy`. */
export function targetText(m: Metric): string {
  const op = m.better === 'higher' ? '≥' : '≤';
  return (m.targets ?? [])
    .map((t) => (isRatio(t) ? `${op}${t.ratio}× ${t.name ?? t.vs}` : '0 where direct loses 0'))
    .join(', ');
}
