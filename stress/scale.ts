import { appendFileSync } from 'node:fs';
import type { TestContext } from 'node:test';

const MiB = 1024 * 1024;

/**
 * How hard the reliability cases push. The same cases run at {@link FULL} scale in
 * `npm run test:stress` (the figures of RELIABILITY.md) and at {@link QUICK} scale inside
 * `npm test`.
 */
export interface Scale {
  name: 'quick' | 'full';
  /** Bytes sent each way through one connection. */
  bigTransfer: number;
  /** Concurrent clients each echoing {@link Scale.bytesPerClient}. */
  clients: number;
  bytesPerClient: number;
  /** Connect/close cycles, a third each clean, reset and refused. */
  cycles: number;
  /**
   * Cycles run before the baseline is taken. linkfwd's RSS climbs from ~63 to ~91 MiB over
   * the first ~6,000 cycles while V8 sizes its heap, then stays flat (measured through 24,000).
   */
  warmupCycles: number;
  /** Clients writing as fast as they can to an upstream that never reads, and how much each tries. */
  stalledClients: number;
  stalledBytes: number;
  /** Clients streaming when the upstream is SIGKILLed. */
  killedClients: number;
  /** Variables in the largest environment of the hostile corpus. */
  envVariables: number;
  /** fast-check runs per property (0: the property suite is left to `npm test`). */
  fuzzRuns: number;
  /** How each hostile environment is run: `--print --json`, and/or with an app. */
  corpusModes: readonly ('print' | 'run')[];
}

export const FULL: Scale = {
  name: 'full',
  bigTransfer: 1024 * MiB,
  clients: 1000,
  bytesPerClient: MiB,
  cycles: 20_000,
  warmupCycles: 6000,
  stalledClients: 16,
  stalledBytes: 128 * MiB,
  killedClients: 50,
  envVariables: 100_000,
  fuzzRuns: 100_000,
  corpusModes: ['print', 'run'],
};

export const QUICK: Scale = {
  name: 'quick',
  bigTransfer: 32 * MiB,
  clients: 100,
  bytesPerClient: 128 * 1024,
  cycles: 1500,
  warmupCycles: 6000,
  stalledClients: 4,
  stalledBytes: 128 * MiB,
  killedClients: 5,
  envVariables: 10_000,
  fuzzRuns: 0,
  corpusModes: ['run'],
};

/**
 * Reports a measured figure: one `figure:` line on stdout (RELIABILITY.md quotes them), a
 * diagnostic of the test, and a JSON line appended to `$LINKFWD_FIGURES` when that is set.
 */
export function figure(
  t: TestContext,
  scale: Scale,
  name: string,
  value: number | string,
  unit = '',
): void {
  const shown = typeof value === 'number' ? Number(value.toFixed(2)) : value;
  const line = `figure: [${scale.name}] ${name}: ${shown}${unit === '' ? '' : ` ${unit}`}`;
  console.log(line);
  t.diagnostic(line);
  const file = process.env.LINKFWD_FIGURES;
  if (file) {
    appendFileSync(file, `${JSON.stringify({ scale: scale.name, name, value: shown, unit })}\n`);
  }
}

export const MIB = MiB;
