/**
 * The measurement loop: every round runs every case against every mode, the modes rotated so no
 * mode always goes first, and collects the figures per metric and mode.
 */
import type { Case, CaseContext } from './case.js';
import type { Mode } from './modes.js';
import type { RunData } from './report.js';
import { rotate } from './stats.js';

export type Shared = Omit<CaseContext, 'warn'>;

export function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 300);
}

export async function measureRounds(
  cases: Case[],
  modes: Mode[],
  shared: Shared,
  data: RunData,
  log: (line: string) => void,
): Promise<void> {
  const { rounds } = shared.profile;
  // A mode that stalled a case once (socat's listen backlog of 5 under 50 clients) would stall
  // it again: it is reported once rather than costing a timeout every round.
  const stalled = new Set<string>();
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      log(`round ${r + 1}/${rounds}: ${c.id}`);
      for (const mode of rotate(modes, r)) {
        const key = `${c.id}/${mode.name}`;
        if (stalled.has(key)) continue;
        const na = mode.notApplicable?.[c.target];
        if (na !== undefined) {
          for (const m of c.metrics)
            data.notApplicable[m.id] = { ...data.notApplicable[m.id], [mode.name]: na };
          continue;
        }
        const warn = (text: string) => {
          const line = `${c.id} / ${mode.name}, round ${r + 1}: ${text}`;
          log(line);
          data.notes.push(line);
        };
        try {
          const figures = await c.run({ ...shared, warn }, mode.endpoints[c.target]!);
          for (const [metric, value] of Object.entries(figures)) {
            const byMode = data.values[metric] ?? {};
            byMode[mode.name] = [...(byMode[mode.name] ?? []), value];
            data.values[metric] = byMode;
          }
        } catch (error) {
          log(`${c.id} / ${mode.name}: ${message(error)}`);
          if (/stalled|timed out/.test(message(error))) stalled.add(key);
          for (const m of c.metrics) {
            const byMode = data.errors[m.id] ?? {};
            byMode[mode.name] ??= message(error);
            data.errors[m.id] = byMode;
          }
        }
      }
    }
  }
}
