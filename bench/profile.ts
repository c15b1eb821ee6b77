/**
 * `--cpu-prof`: runs linkfwd under `node --cpu-prof` for the ping-pong and the pgbench cases
 * (one linkfwd each, so each profile shows one workload) and lists the functions with the most
 * self time.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../test/helpers/cli.js';
import type { ClientWorker } from './client-worker.js';
import { pgbench } from './external.js';
import { startLinkfwd } from './modes.js';
import type { ToolPaths } from './tools.js';
import type { Cleanup, Endpoint } from './upstreams.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotFunction {
  name: string;
  selfMs: number;
  /** Share of the time linkfwd was busy, i.e. not in `(idle)`. */
  busyPct: number;
}

/** Self time per function (summed over call sites), largest first; `(idle)` left out. */
export function hotFunctions(file: string, top = 15): HotFunction[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const frameOf = new Map<number, string>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    // Paths relative to the repository: summaries are committed, and a clone has another root.
    const source = url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '');
    const where = url
      ? ` ${source.startsWith('/') ? relative(ROOT, source) : source}:${lineNumber + 1}`
      : '';
    frameOf.set(node.id, `${functionName || '(anonymous)'}${where}`);
  }
  const self = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const name = frameOf.get(id) ?? '?';
    if (name === '(idle)') return;
    self.set(name, (self.get(name) ?? 0) + us);
    busy += us;
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, selfMs: us / 1000, busyPct: (100 * us) / busy }));
}

async function profiled(
  name: string,
  dir: string,
  target: Record<string, Endpoint>,
  onStop: (c: Cleanup) => void,
  work: (to: Endpoint) => Promise<string>,
): Promise<string> {
  const caseDir = join(dir, name);
  const mode = await startLinkfwd(target, onStop, {
    name: `linkfwd-prof-${name}`,
    nodeArgs: ['--cpu-prof', '--cpu-prof-dir', caseDir],
  });
  let outcome: string;
  try {
    outcome = await work(Object.values(mode.endpoints)[0]!);
  } finally {
    // The profile is written when linkfwd exits, which forward-only mode does on SIGTERM.
    await mode.process!.stop();
  }
  const status = await mode.process!.exited;
  const file = existsSync(caseDir)
    ? readdirSync(caseDir).find((f) => f.endsWith('.cpuprofile'))
    : undefined;
  if (file === undefined)
    throw new Error(`linkfwd (exit status ${status}) wrote no profile into ${caseDir}`);
  const path = join(caseDir, file);
  const table = hotFunctions(path)
    .map((f) => `| ${f.busyPct.toFixed(1)} % | ${f.selfMs.toFixed(0)} ms | \`${f.name}\` |`)
    .join('\n');
  return [
    `### ${name}: ${outcome}`,
    '',
    `Profile: \`${relative(ROOT, path)}\` (open in Chrome DevTools → Performance, or speedscope)`,
    '',
    '| self, % of busy | self | function |',
    '| ---: | ---: | --- |',
    table,
    '',
  ].join('\n');
}

export async function runCpuProfiles(
  dir: string,
  targets: { echo: Endpoint; postgres?: Endpoint },
  tools: ToolPaths,
  client: ClientWorker,
  seconds: number,
  onStop: (c: Cleanup) => void,
): Promise<string> {
  const parts = [
    await profiled('pingpong', dir, { echo: targets.echo }, onStop, async (to) => {
      const job = {
        kind: 'pingpong',
        ...to,
        durationMs: seconds * 1000,
        maxIterations: 10_000_000,
      } as const;
      const r = await client.run(job, seconds * 1000 + 30_000);
      return `p50 ${r.extra?.p50?.toFixed(1)} µs, p99 ${r.extra?.p99?.toFixed(1)} µs, ${r.extra?.iterations} round trips`;
    }),
  ];
  if (targets.postgres !== undefined) {
    const postgres = targets.postgres;
    parts.push(
      await profiled('pgbench', dir, { postgres }, onStop, async (to) => {
        return `${(await pgbench(tools, to, seconds)).toFixed(0)} TPS`;
      }),
    );
  }
  return parts.join('\n');
}
