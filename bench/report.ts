/**
 * The results as markdown: one side-by-side table (medians, linkfwd's ratios, targets), linkfwd's
 * memory and start-up, the raw per-round values, and everything that was missing or failed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Case, Metric, Target } from './cases.js';
import type { MemoryResult } from './memory.js';
import { MODES, type ModeName } from './modes.js';
import type { Profile } from './options.js';
import type { StartupResult } from './startup.js';
import { formatNumber, median } from './stats.js';
import type { Machine } from './tools.js';

export interface RunData {
  profile: Profile;
  machine: Machine;
  started: Date;
  seconds: number;
  /** 1/5/15-minute load averages before and after: other work on the machine skews figures. */
  load: { start: number[]; end: number[] };
  /** Why a mode could not run (tool missing, linkfwd not built, failed to start). */
  unavailable: Partial<Record<ModeName, string>>;
  cases: Case[];
  values: Record<string, Partial<Record<ModeName, number[]>>>;
  errors: Record<string, Partial<Record<ModeName, string>>>;
  skipped: { what: string; reason: string }[];
  memory?: MemoryResult | { error: string };
  startup?: StartupResult | { error: string };
  notes: string[];
}

const RATIO_MODES: ModeName[] = ['direct', 'socat', 'haproxy'];

function medianOf(data: RunData, metric: string, mode: ModeName): number {
  return median(data.values[metric]?.[mode] ?? []);
}

function cell(data: RunData, m: Metric, mode: ModeName): string {
  if (data.unavailable[mode] !== undefined) return 'missing';
  const value = medianOf(data, m.id, mode);
  if (Number.isFinite(value)) return formatNumber(value, m.digits);
  const error = data.errors[m.id]?.[mode];
  if (error === undefined) return '—';
  return error.includes('stalled') ? 'stalled' : 'error';
}

function ratio(data: RunData, m: Metric, vs: ModeName): number {
  return medianOf(data, m.id, 'linkfwd') / medianOf(data, m.id, vs);
}

function formatRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : '—';
}

export function verdict(r: number, better: 'higher' | 'lower', t: Target): string {
  if (!Number.isFinite(r)) return `? ${t.vs}`;
  const met = better === 'higher' ? r >= t.ratio : r <= t.ratio;
  return `${met ? 'met' : 'MISSED'} ${t.vs}`;
}

function targetText(better: 'higher' | 'lower', targets: Target[]): string {
  const op = better === 'higher' ? '≥' : '≤';
  return targets.map((t) => `${op}${t.ratio}× ${t.vs}`).join(', ');
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function mainTable(data: RunData): string[] {
  const header = [
    'metric',
    'unit',
    ...MODES,
    ...RATIO_MODES.map((m) => `linkfwd ÷ ${m}`),
    'target',
    'result',
  ];
  const align = header.map((_, i) => (i < 2 || i >= header.length - 2 ? '---' : '---:'));
  const lines = [row(header), row(align)];
  for (const c of data.cases) {
    for (const m of c.metrics) {
      const ratios = RATIO_MODES.map((vs) => formatRatio(ratio(data, m, vs)));
      const targets = m.targets ?? [];
      const result = targets.map((t) => verdict(ratio(data, m, t.vs), m.better, t)).join(', ');
      lines.push(
        row([
          m.label,
          m.unit,
          ...MODES.map((mode) => cell(data, m, mode)),
          ...ratios,
          targetText(m.better, targets),
          result,
        ]),
      );
    }
  }
  return lines;
}

function linkfwdTable(data: RunData): string[] {
  const lines = [row(['linkfwd', 'value', 'target', 'result']), row(['---', '---:', '---', '---'])];
  const mem = data.memory;
  if (mem !== undefined && 'error' in mem)
    lines.push(row(['memory', `error: ${mem.error}`, '', '']));
  else if (mem !== undefined) {
    const held = `${mem.held.toLocaleString('en-US')} idle connections`;
    lines.push(
      row([
        'RSS idle',
        `${mem.idleMiB.toFixed(1)} MiB`,
        '≤ 60 MB',
        mem.idleMiB * 1.048576 <= 60 ? 'met' : 'MISSED',
      ]),
      row([`RSS with ${held}`, `${mem.loadedMiB.toFixed(1)} MiB`, '', '']),
      row([
        'RSS per idle connection',
        `${mem.perConnectionKiB.toFixed(2)} KiB`,
        '≤ 6 KiB',
        mem.perConnectionKiB <= 6 ? 'met' : 'MISSED',
      ]),
    );
  }
  const st = data.startup;
  if (st !== undefined && 'error' in st)
    lines.push(row(['start-up', `error: ${st.error}`, '', '']));
  else if (st !== undefined) {
    const r = st.linkfwdMs / st.nodeMs;
    lines.push(
      row(['`node -e 0`', `${st.nodeMs.toFixed(1)} ms`, '', '']),
      row(['`linkfwd -f … -- true`', `${st.linkfwdMs.toFixed(1)} ms`, '', '']),
      row(['start-up ÷ `node -e 0`', formatRatio(r), '≤ 1.5×', r <= 1.5 ? 'met' : 'MISSED']),
    );
  }
  return lines.length > 2 ? lines : [];
}

function rawTable(data: RunData): string[] {
  const lines = [row(['metric', ...MODES]), row(['---', ...MODES.map(() => '---')])];
  for (const c of data.cases) {
    for (const m of c.metrics) {
      const cells = MODES.map((mode) =>
        (data.values[m.id]?.[mode] ?? []).map((v) => formatNumber(v, m.digits)).join(' / '),
      );
      lines.push(row([m.id, ...cells]));
    }
  }
  return lines;
}

function problems(data: RunData): string[] {
  const lines: string[] = [];
  for (const [mode, reason] of Object.entries(data.unavailable))
    lines.push(`- mode **${mode}** missing: ${reason}`);
  for (const s of data.skipped) lines.push(`- **${s.what}** not measured: ${s.reason}`);
  for (const [metric, byMode] of Object.entries(data.errors)) {
    for (const [mode, error] of Object.entries(byMode))
      lines.push(`- ${metric} / ${mode}: ${error}`);
  }
  for (const note of data.notes) lines.push(`- ${note}`);
  return lines;
}

function load(averages: number[]): string {
  return averages.map((a) => a.toFixed(2)).join(' / ');
}

/** The tables that also go to stdout. */
export function summary(data: RunData): string {
  return [...mainTable(data), '', ...linkfwdTable(data)].join('\n');
}

export function renderReport(data: RunData): string {
  const { machine: mc, profile: p } = data;
  const versions = Object.entries(mc.versions)
    .map(([tool, v]) => `${tool} ${v}`)
    .join(', ');
  const issues = problems(data);
  return [
    `# linkfwd benchmark — ${data.started.toISOString()}`,
    '',
    `Profile **${p.name}**: ${p.rounds} round(s), modes interleaved (rotated each round), medians; ` +
      `Node client cases ${p.durationMs} ms each, iperf3/pgbench ${p.toolSeconds} s, ` +
      `redis-benchmark ${p.redisRequests.toLocaleString('en-US')} requests. Took ${data.seconds.toFixed(0)} s.`,
    '',
    `Machine: ${mc.nproc} CPUs (${mc.cpu}), ${mc.memory}, ${mc.kernel}, Node ${mc.node}; ` +
      `load average ${load(data.load.start)} before, ${load(data.load.end)} after.`,
    `Tools: ${versions || 'none'}.`,
    '',
    '## Side by side',
    '',
    ...mainTable(data),
    '',
    ...(linkfwdTable(data).length > 0 ? ['## linkfwd alone', '', ...linkfwdTable(data), ''] : []),
    ...(issues.length > 0 ? ['## Missing, skipped, failed', '', ...issues, ''] : []),
    '## Every round',
    '',
    ...rawTable(data),
    '',
  ].join('\n');
}

const BEGIN = '<!-- bench:results:begin -->';
const END = '<!-- bench:results:end -->';

/** Replaces the block between the markers in `file` (BENCHMARKS.md) with the report, headings demoted. */
export function publishReport(markdown: string, file: string): void {
  const doc = readFileSync(file, 'utf8');
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`${file} has no ${BEGIN} … ${END} block`);
  const body = markdown
    .replace(/^# linkfwd benchmark — (.*)$/m, '### Run of $1')
    .replace(/^## /gm, '#### ');
  writeFileSync(file, `${doc.slice(0, begin + BEGIN.length)}\n${body.trim()}\n${doc.slice(end)}`);
}
