/**
 * The UDP cases, against the UDP echo (`bench/udp-echo.ts`): request/response rate on 8
 * long-lived sockets and with a new socket per request (socat forks per peer), and the loss
 * under a paced load. haproxy has no UDP: its column says n/a.
 */
import { type Case, clientTimeout } from './case.js';

/** Target (BENCHMARKS.md, "Targets"): UDP request/response ≥ 2 × socat's rate. */
const RATE_TARGETS = [{ vs: 'socat', ratio: 2 }] as const;

export const udpRate8: Case = {
  id: 'udp_rate8',
  target: 'udp',
  tools: [],
  metrics: [
    {
      id: 'udp_rate8',
      label: 'UDP request/response, 8 clients',
      unit: 'req/s',
      better: 'higher',
      digits: 0,
      targets: [...RATE_TARGETS],
    },
  ],
  async run({ client, profile, warn }, to) {
    const job = { kind: 'udp-rate', ...to, clients: 8, durationMs: profile.durationMs } as const;
    const result = await client.run(job, clientTimeout(profile));
    const retries = result.extra?.retries ?? 0;
    if (retries > 0) warn(`${retries} requests unanswered within 200 ms, sent again`);
    return { udp_rate8: result.value };
  },
};

export const udpNewPeer: Case = {
  id: 'udp_newpeer',
  target: 'udp',
  tools: [],
  metrics: [
    {
      id: 'udp_newpeer',
      label: 'UDP request/response, new peer per request (16 in flight)',
      unit: 'req/s',
      better: 'higher',
      digits: 0,
      targets: [...RATE_TARGETS],
    },
  ],
  async run({ client, profile }, to) {
    const job = {
      kind: 'udp-newpeer',
      ...to,
      inFlight: 16,
      durationMs: profile.durationMs,
    } as const;
    return { udp_newpeer: (await client.run(job, clientTimeout(profile))).value };
  },
};

/** One socket sending `rate` datagrams/s of `size` bytes: the share never echoed. */
export function udpPaced(rate: number, size: number): Case {
  const id = `udp_loss_${rate / 1000}k_${size}`;
  const n = (v: number) => v.toLocaleString('en-US');
  return {
    id,
    target: 'udp',
    tools: [],
    metrics: [
      {
        id,
        label: `UDP paced ${n(rate)}/s × ${n(size)} B, loss`,
        unit: '%',
        better: 'lower',
        digits: 2,
        ratios: false,
        targets: [{ lossless: true }],
      },
    ],
    async run({ client, profile }, to) {
      const job = { kind: 'udp-paced', ...to, rate, size, durationMs: profile.durationMs } as const;
      return { [id]: (await client.run(job, clientTimeout(profile))).value };
    },
  };
}
