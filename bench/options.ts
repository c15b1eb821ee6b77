/**
 * Command-line options of `npm run bench` and the three profiles: full (default), `--quick`
 * (under three minutes) and `--smoke` (seconds; what the smoke test runs).
 */
import { parseArgs } from 'node:util';

export interface Profile {
  name: 'full' | 'quick' | 'smoke';
  rounds: number;
  /** Node client cases (bulk, connection rate, ping-pong) and UDP cases. */
  durationMs: number;
  /** iperf3 -t and pgbench -T take whole seconds. */
  toolSeconds: number;
  redisRequests: number;
  pingIterations: number;
  /** Idle connections held through linkfwd for the memory figure (capped by RLIMIT_NOFILE). */
  holdConnections: number;
  startupRuns: number;
  cases: readonly string[];
  /** Single cases left out of a group (the quick profile has no 8-stream bulk). */
  skip: readonly string[];
}

export const ALL_CASES = [
  'bulk',
  'iperf',
  'connrate',
  'pingpong',
  'pgbench',
  'unix',
  'redis',
  'udp',
  'memory',
  'startup',
] as const;

const PROFILES: Record<Profile['name'], Profile> = {
  full: {
    name: 'full',
    rounds: 5,
    durationMs: 3000,
    toolSeconds: 5,
    redisRequests: 100_000,
    pingIterations: 200_000,
    holdConnections: 10_000,
    startupRuns: 30,
    cases: ALL_CASES,
    skip: [],
  },
  quick: {
    name: 'quick',
    rounds: 3,
    durationMs: 500,
    toolSeconds: 1,
    redisRequests: 10_000,
    pingIterations: 20_000,
    holdConnections: 10_000,
    startupRuns: 8,
    cases: ALL_CASES,
    // Full has these too; left out here to stay near three minutes with five modes.
    skip: ['bulk8', 'iperf8', 'udp_loss_5k_8192'],
  },
  smoke: {
    name: 'smoke',
    rounds: 1,
    durationMs: 200,
    toolSeconds: 1,
    redisRequests: 1000,
    pingIterations: 500,
    holdConnections: 100,
    startupRuns: 2,
    // One UDP case: the UDP echo, the UDP listeners and haproxy's n/a go through the harness.
    cases: ['pingpong', 'udp', 'memory'],
    skip: ['udp_newpeer', 'udp_loss_5k_1200', 'udp_loss_20k_1200', 'udp_loss_5k_8192'],
  },
};

export interface Options {
  profile: Profile;
  install: boolean;
  /** Where pids and ports are appended as they are started (for the smoke test). */
  manifest: string | undefined;
  /** Directory for results; `bench/results` by default. */
  out: string;
  /** Write linkfwd CPU profiles of the pgbench and ping-pong cases instead of a full run. */
  cpuProf: boolean;
  /** Also replace the results block of BENCHMARKS.md with this run's report. */
  publish: boolean;
}

export const USAGE = `usage: npm run bench -- [--quick | --smoke] [--only CASE,...] [--rounds N]
                         [--no-install] [--cpu-prof] [--publish] [--out DIR] [--manifest FILE]
  --quick     3 short rounds, under three minutes    --smoke     seconds; what the test runs
  --only      some cases: ${ALL_CASES.join(', ')}
  --cpu-prof  profile linkfwd under ping-pong and pgbench, list the hottest functions
  --publish   also put the report into BENCHMARKS.md (between its bench:results markers)`;

export function parseOptions(argv: readonly string[], defaultOut: string): Options {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean' },
      smoke: { type: 'boolean' },
      only: { type: 'string' },
      rounds: { type: 'string' },
      'no-install': { type: 'boolean' },
      'cpu-prof': { type: 'boolean' },
      publish: { type: 'boolean' },
      out: { type: 'string' },
      manifest: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const name = values.smoke ? 'smoke' : values.quick ? 'quick' : 'full';
  const profile = { ...PROFILES[name] };
  if (values.only !== undefined) {
    const only = values.only.split(',').map((c) => c.trim());
    const unknown = only.filter((c) => !(ALL_CASES as readonly string[]).includes(c));
    if (unknown.length > 0)
      throw new Error(`unknown case ${unknown.join(', ')}; cases: ${ALL_CASES.join(', ')}`);
    profile.cases = only;
  }
  if (values.rounds !== undefined) {
    const rounds = Number(values.rounds);
    if (!Number.isInteger(rounds) || rounds < 1)
      throw new Error(`--rounds wants a whole number ≥ 1, got ${values.rounds}`);
    profile.rounds = rounds;
  }
  return {
    profile,
    install: !values['no-install'] && name !== 'smoke',
    manifest: values.manifest,
    out: values.out ?? defaultOut,
    cpuProf: values['cpu-prof'] === true,
    publish: values.publish === true,
  };
}
