/**
 * The TCP cases that need no service: bulk throughput (the Node client, iperf3), connection
 * rate and 1-byte ping-pong against the Node echo and sink upstreams.
 */
import { type Case, clientTimeout, type Metric, type Target } from './case.js';
import { iperf } from './external.js';

export const BULK_TARGETS: Target[] = [
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

export function nodeBulk(streams: number, targets?: Target[]): Case {
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

export function iperfBulk(streams: number, targets?: Target[]): Case {
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

export function connrate(id: string, concurrency: number, label: string, targets?: Target[]): Case {
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

export const pingpong: Case = {
  id: 'pingpong',
  target: 'echo',
  tools: [],
  metrics: [
    {
      id: 'ping_p50',
      label: '1-byte ping-pong p50',
      unit: 'µs',
      better: 'lower',
      digits: 1,
      targets: [{ vs: 'haproxy', ratio: 1.05 }],
    },
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
