/**
 * What a case is: the load it puts on one mode's endpoint, the figures (metrics) it yields per
 * round, and the targets linkfwd's default mode is held to. The same load generator runs
 * against every mode; only the address changes.
 */
import type { ClientWorker } from './client-worker.js';
import type { ModeName, Targets } from './modes.js';
import type { Profile } from './options.js';
import type { Tool, ToolPaths } from './tools.js';

/** linkfwd ÷ `vs` must be ≥ ratio (higher is better) or ≤ ratio (lower is better). */
export interface RatioTarget {
  vs: ModeName;
  ratio: number;
  /** The figure of `vs` to divide by is this other metric's (Unix listener ÷ TCP listener). */
  metric?: string;
  /** What the verdict calls the figure divided by, when the mode's name alone would mislead. */
  name?: string;
}

/** A loss that must be 0 wherever direct delivery loses nothing under the same load. */
export interface LosslessTarget {
  lossless: true;
}

export type Target = RatioTarget | LosslessTarget;

export interface Metric {
  id: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  digits: number;
  targets?: Target[];
  /** False for figures whose quotient means nothing (a loss of 0 %). */
  ratios?: boolean;
}

export interface Case {
  id: string;
  /** The upstream this case talks to (a key of the targets). */
  target: string;
  tools: Tool[];
  metrics: Metric[];
  run(ctx: CaseContext, to: Targets[string]): Promise<Record<string, number>>;
}

export interface CaseContext {
  client: ClientWorker;
  tools: ToolPaths;
  profile: Profile;
  /** Something the figure alone does not show (failed connections), for the report. */
  warn(message: string): void;
}

/** How long a Node-client job may take before the client is deemed stuck. */
export const clientTimeout = (p: Profile) => p.durationMs + 30_000;
