/**
 * The cases by group, as named on the command line (`--only bulk,pgbench`), with linkfwd's
 * targets (BENCHMARKS.md, "Targets").
 */
import type { Case } from './case.js';
import { pgbenchCase, pgbenchUnix, redis } from './cases-services.js';
import { BULK_TARGETS, connrate, iperfBulk, nodeBulk, pingpong } from './cases-tcp.js';
import { udpNewPeer, udpPaced, udpRate8 } from './cases-udp.js';
import type { Profile } from './options.js';

const pgbench4 = pgbenchCase(4, [
  { vs: 'socat', ratio: 1 },
  { vs: 'haproxy', ratio: 1 },
]);

export const CASE_GROUPS: Record<string, Case[]> = {
  bulk: [nodeBulk(1, BULK_TARGETS), nodeBulk(8)],
  iperf: [iperfBulk(1, BULK_TARGETS), iperfBulk(8)],
  connrate: [
    connrate('conn_seq', 1, 'connect → 1-byte echo → close, sequential', [
      { vs: 'direct', ratio: 0.65 },
      { vs: 'haproxy', ratio: 0.9 },
    ]),
    connrate('conn_64', 64, 'connect → 1-byte echo → close, 64 concurrent', [
      { vs: 'haproxy', ratio: 1 },
    ]),
  ],
  pingpong: [pingpong],
  pgbench: [
    pgbench4,
    pgbenchCase(8, [
      { vs: 'socat', ratio: 1.1 },
      { vs: 'haproxy', ratio: 1 },
    ]),
    pgbenchCase(16),
  ],
  redis: [redis],
  udp: [udpRate8, udpNewPeer, udpPaced(5000, 1200), udpPaced(20_000, 1200), udpPaced(5000, 8192)],
  // The Unix listener is judged against the TCP listener's figure of the same rounds.
  unix: [pgbench4, pgbenchUnix],
};

/** The profile's cases in order, each once (`--only pgbench,unix` runs pgbench -c 4 once). */
export function selectCases(profile: Profile): Case[] {
  const selected = new Map<string, Case>();
  for (const c of profile.cases.flatMap((name) => CASE_GROUPS[name] ?? [])) {
    if (!profile.skip.includes(c.id) && !selected.has(c.id)) selected.set(c.id, c);
  }
  return [...selected.values()];
}
