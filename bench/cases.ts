/**
 * What is measured per mode and round, the figures each case yields, and the targets
 * for linkfwd. The same load generator runs against every mode; only the address changes.
 */
import type { ClientWorker } from './client-worker.js';
import { iperf, pgbench, redisBenchmark } from './external.js';
import type { ModeName, Targets } from './modes.js';
import type { Profile } from './options.js';
import type { Tool, ToolPaths } from './tools.js';

export interface Target {
  vs: ModeName;
  /** linkfwd ÷ vs must be ≥ ratio (higher is better) or ≤ ratio (lower is better). */
  ratio: number;
}

export interface Metric {
  id: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  digits: number;
  targets?: Target[];
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

const BULK_TARGETS: Target[] = [
  { vs: 'direct', ratio: 0.6 },
  { vs: 'socat', ratio: 1.5 },
  { vs: 'haproxy', ratio: 1.1 },
];

const gbit = (id: string, label: string, targets?: Target[]): Metric => ({
  id,
  label,
  unit: 'Gbit/s',
  better: 'higher',
  digits: 2,
  ...(targets && { targets }),
});

const clientTimeout = (p: Profile) => p.durationMs + 30_000;

function nodeBulk(streams: number, targets?: Target[]): Case {
  const id = `bulk${streams}`;
  return {
    id,
    target: 'sink',
    tools: [],
    metrics: [gbit(id, `bulk, ${streams} stream${streams > 1 ? 's' : ''} (Node client)`, targets)],
    async run({ client, profile }, to) {
      const job = { kind: 'bulk', ...to, streams, durationMs: profile.durationMs } as const;
      return { [id]: (await client.run(job, clientTimeout(profile))).value };
    },
  };
}

function iperfBulk(streams: number, targets?: Target[]): Case {
  const id = `iperf${streams}`;
  return {
    id,
    target: 'iperf',
    tools: ['iperf3'],
    metrics: [gbit(id, `bulk, ${streams} stream${streams > 1 ? 's' : ''} (iperf3)`, targets)],
    async run({ tools, profile }, to) {
      return { [id]: await iperf(tools, to, streams, profile.toolSeconds) };
    },
  };
}

function connrate(id: string, concurrency: number, label: string, targets?: Target[]): Case {
  return {
    id,
    target: 'echo',
    tools: [],
    metrics: [
      { id, label, unit: 'conn/s', better: 'higher', digits: 0, ...(targets && { targets }) },
    ],
    async run({ client, profile, warn }, to) {
      const job = { kind: 'connrate', ...to, concurrency, durationMs: profile.durationMs } as const;
      const result = await client.run(job, clientTimeout(profile));
      const errors = result.extra?.errors ?? 0;
      const total = errors + (result.extra?.connections ?? 0);
      if (errors > 0) warn(`${errors} of ${total} connections failed (${result.detail})`);
      return { [id]: result.value };
    },
  };
}

const pingpong: Case = {
  id: 'pingpong',
  target: 'echo',
  tools: [],
  metrics: [
    { id: 'ping_p50', label: '1-byte ping-pong p50', unit: 'µs', better: 'lower', digits: 1 },
    {
      id: 'ping_p99',
      label: '1-byte ping-pong p99',
      unit: 'µs',
      better: 'lower',
      digits: 1,
      targets: [{ vs: 'haproxy', ratio: 1 }],
    },
  ],
  async run({ client, profile }, to) {
    const job = {
      kind: 'pingpong',
      ...to,
      durationMs: profile.durationMs,
      maxIterations: profile.pingIterations,
    } as const;
    const result = await client.run(job, clientTimeout(profile));
    return { ping_p50: result.extra?.p50 ?? Number.NaN, ping_p99: result.extra?.p99 ?? Number.NaN };
  },
};

const pgbenchCase: Case = {
  id: 'pgbench',
  target: 'postgres',
  tools: ['pgbench', 'initdb', 'postgres'],
  metrics: [
    {
      id: 'pgbench',
      label: 'pgbench -S -c 4 -j 2',
      unit: 'TPS',
      better: 'higher',
      digits: 0,
      targets: [
        { vs: 'socat', ratio: 1 },
        { vs: 'haproxy', ratio: 1.1 },
      ],
    },
  ],
  async run({ tools, profile }, to) {
    return { pgbench: await pgbench(tools, to, profile.toolSeconds) };
  },
};

const redis: Case = {
  id: 'redis',
  target: 'redis',
  tools: ['redis-server', 'redis-benchmark'],
  metrics: [
    {
      id: 'redis_get',
      label: 'redis-benchmark GET -c 50',
      unit: 'req/s',
      better: 'higher',
      digits: 0,
    },
    {
      id: 'redis_set',
      label: 'redis-benchmark SET -c 50',
      unit: 'req/s',
      better: 'higher',
      digits: 0,
    },
  ],
  async run({ tools, profile }, to) {
    const { get, set } = await redisBenchmark(tools, to, profile.redisRequests);
    return { redis_get: get, redis_set: set };
  },
};

/** Case groups as named on the command line (`--only bulk,pgbench`). */
export const CASE_GROUPS: Record<string, Case[]> = {
  bulk: [nodeBulk(1, BULK_TARGETS), nodeBulk(8)],
  iperf: [iperfBulk(1, BULK_TARGETS), iperfBulk(8)],
  connrate: [
    connrate('conn_seq', 1, 'connect → 1-byte echo → close, sequential', [
      { vs: 'direct', ratio: 0.65 },
      { vs: 'haproxy', ratio: 1 },
    ]),
    connrate('conn_64', 64, 'connect → 1-byte echo → close, 64 concurrent'),
  ],
  pingpong: [pingpong],
  pgbench: [pgbenchCase],
  redis: [redis],
};

export function selectCases(profile: Profile): Case[] {
  return profile.cases
    .flatMap((name) => CASE_GROUPS[name] ?? [])
    .filter((c) => !profile.skip.includes(c.id));
}
