/**
 * The results as markdown: one side-by-side table (medians, linkfwd's ratios, targets), linkfwd's
 * memory and start-up, the raw per-round values, and everything that was missing or failed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Case, Metric } from './case.js';
import type { MemoryResult } from './memory.js';
import { MODES, type ModeName } from './modes.js';
import type { Profile } from './options.js';
import type { StartupResult } from './startup.js';
import { formatNumber, median } from './stats.js';
import type { Machine } from './tools.js';
import { formatRatio, type Medians, ratio, targetText, verdicts } from './verdicts.js';

export interface RunData {
  profile: Profile;
  machine: Machine;
  started: Date;
  seconds: number;
  /** 1/5/15-minute load averages before and after: other work on the machine skews figures. */
  load: { start: number[]; end: number[] };
  /** How each mode is shown: `linkfwd (auto=1)`, `linkfwd --threads 2`. */
  labels: Partial<Record<ModeName, string>>;
  /** Why a mode could not run (tool missing, linkfwd not built, failed to start). */
  unavailable: Partial<Record<ModeName, string>>;
  cases: Case[];
  values: Record<string, Partial<Record<ModeName, number[]>>>;
  errors: Record<string, Partial<Record<ModeName, string>>>;
  /** Metric → mode → why the mode cannot serve it (haproxy has no UDP): shown as n/a. */
  notApplicable: Record<string, Partial<Record<ModeName, string>>>;
  skipped: { what: string; reason: string }[];
  memory?: MemoryResult | { error: string };
  startup?: StartupResult | { error: string };
  notes: string[];
}

const RATIO_MODES: ModeName[] = ['direct', 'socat', 'haproxy'];

function medians(data: RunData): Medians {
  return (metric, mode) => median(data.values[metric]?.[mode] ?? []);
}

function label(data: RunData, mode: ModeName): string {
  return data.labels[mode] ?? mode;
}

function cell(data: RunData, m: Metric, mode: ModeName): string {
  if (data.unavailable[mode] !== undefined) return 'missing';
  if (data.notApplicable[m.id]?.[mode] !== undefined) return 'n/a';
  const value = medians(data)(m.id, mode);
  if (Number.isFinite(value)) return formatNumber(value, m.digits);
  const error = data.errors[m.id]?.[mode];
  if (error === undefined) return '—';
  return error.includes('stalled') ? 'stalled' : 'error';
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** `linkfwd (auto=1)` → `auto=1`, `linkfwd --threads 2` → `--threads 2`. */
function short(text: string): string {
  return text.replace(/^linkfwd /, '').replace(/[()]/g, '');
}

function mainTable(data: RunData): string[] {
  const threads = `${short(label(data, 'linkfwd'))} ÷ ${short(label(data, 'linkfwd-alt'))}`;
  const header = [
    'metric',
    'unit',
    ...MODES.map((mode) => label(data, mode)),
    ...RATIO_MODES.map((m) => `linkfwd ÷ ${m}`),
    threads,
    'target',
    'result',
  ];
  const align = header.map((_, i) => (i < 2 || i >= header.length - 2 ? '---' : '---:'));
  const lines = [row(header), row(align)];
  const med = medians(data);
  for (const c of data.cases) {
    for (const m of c.metrics) {
      const shown = (vs: ModeName) => (m.ratios === false ? '' : formatRatio(ratio(med, m, vs)));
      lines.push(
        row([
          m.label,
          m.unit,
          ...MODES.map((mode) => cell(data, m, mode)),
          ...RATIO_MODES.map(shown),
          shown('linkfwd-alt'),
          targetText(m),
          verdicts(med, m),
        ]),
      );
    }
  }
  return lines;
}

/** What the table's columns mean, and why a cell says n/a. */
function tableNotes(data: RunData): string[] {
  const reasons = new Map<string, string[]>();
  for (const byMode of Object.values(data.notApplicable)) {
    for (const [mode, reason] of Object.entries(byMode)) {
      const modes = reasons.get(reason) ?? [];
      if (!modes.includes(mode)) modes.push(mode);
      reasons.set(reason, modes);
    }
  }
  const na = [...reasons].map(([reason, modes]) => `${reason} (${modes.join(', ')})`);
  return [
    `Ratios and results are those of \`${label(data, 'linkfwd')}\`, linkfwd as a user runs it ` +
      `(default \`--threads auto\`); the \`${label(data, 'linkfwd-alt')}\` column is the other ` +
      'thread count, in the same rounds.' +
      (na.length > 0 ? ` n/a: ${na.join('; ')}.` : ''),
  ];
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
        'RSS idle (default threads)',
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
  const lines = [
    row(['metric', ...MODES.map((mode) => label(data, mode))]),
    row(['---', ...MODES.map(() => '---')]),
  ];
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
    lines.push(`- mode **${label(data, mode as ModeName)}** missing: ${reason}`);
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
  return [...tableNotes(data), '', ...mainTable(data), '', ...linkfwdTable(data)].join('\n');
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
      `Node client and UDP cases ${p.durationMs} ms each, iperf3/pgbench ${p.toolSeconds} s, ` +
      `redis-benchmark ${p.redisRequests.toLocaleString('en-US')} requests. Took ${data.seconds.toFixed(0)} s.`,
    '',
    `Machine: ${mc.nproc} CPUs (${mc.cpu}), ${mc.memory}, ${mc.kernel}, Node ${mc.node}; ` +
      `load average ${load(data.load.start)} before, ${load(data.load.end)} after.`,
    `Tools: ${versions || 'none'}.`,
    '',
    '## Side by side',
    '',
    ...tableNotes(data),
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
