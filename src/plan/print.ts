import { escapeControl } from '../log.js';
import { describeOrigin, type Plan, type PlannedForward } from './planned.js';
import { formatEndpoint } from './spec.js';

/** The `--print --json` document (README: "--print and --print --json"). Keys may be added; these are stable. */
export interface PlanJson {
  forwards: {
    /** `{ host, port }` for each address, or one `{ path }` for a Unix-socket listener. */
    listen: ({ host: string; port: number } | { path: string })[];
    target: { host: string; port: number };
    protocol: 'tcp' | 'udp';
    origin: string;
    explicit: boolean;
  }[];
  skipped: { origin: string; reason: string }[];
}

export function planToJson(plan: Plan): PlanJson {
  return {
    forwards: plan.forwards.map((f) => ({
      listen:
        f.unix === undefined
          ? f.listen.map(({ host, port }) => ({ host, port }))
          : [{ path: f.unix }],
      target: { host: f.target.host, port: f.target.port },
      protocol: f.protocol ?? 'tcp',
      origin: f.origin,
      explicit: f.explicit,
    })),
    skipped: plan.skipped.map(({ origin, reason }) => ({ origin, reason })),
  };
}

/**
 * The plan as an aligned table: one row per forward (listen addresses, target, origin, kind),
 * then the skipped variables with their reasons.
 */
export function formatPlanTable(plan: Plan): string {
  const lines: string[] = [];
  if (plan.forwards.length === 0) {
    lines.push('no forwards');
  } else {
    const rows = [
      ['LISTEN', 'PROTO', 'TARGET', 'ORIGIN', 'KIND'],
      ...plan.forwards.map((f) => [
        formatListen(f),
        f.protocol ?? 'tcp',
        formatEndpoint(f.target),
        describeOrigin(f),
        f.explicit ? 'explicit' : 'discovered',
      ]),
    ];
    lines.push(...alignColumns(rows));
  }
  if (plan.skipped.length > 0) {
    lines.push('', 'SKIPPED');
    lines.push(...alignColumns(plan.skipped.map((s) => [s.origin, s.reason])));
  }
  return `${lines.join('\n')}\n`;
}

/** `127.0.0.1:53 [::1]:53`, or `unix:/run/db.sock`. */
function formatListen(forward: PlannedForward): string {
  if (forward.unix !== undefined) return `unix:${forward.unix}`;
  return forward.listen.map(formatEndpoint).join(' ');
}

/** Columns padded to their widest cell; control characters in a cell (a name) are escaped. */
function alignColumns(cells: string[][]): string[] {
  const rows = cells.map((row) => row.map(escapeControl));
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}
