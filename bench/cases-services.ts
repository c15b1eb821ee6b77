/**
 * The cases against real services: pgbench select-only at 4, 8 and 16 clients,
 * redis-benchmark GET/SET at 50, and pgbench through linkfwd's Unix-socket listener.
 */
import type { Case, Target } from './case.js';
import { pgbench, redisBenchmark } from './external.js';

/** `pgbench -S -c N -j 2`, TPS. */
export function pgbenchCase(clients: number, targets?: Target[]): Case {
  const id = `pgbench${clients}`;
  return {
    id,
    target: 'postgres',
    tools: ['pgbench', 'initdb', 'postgres'],
    metrics: [
      {
        id,
        label: `pgbench -S -c ${clients} -j 2`,
        unit: 'TPS',
        better: 'higher',
        digits: 0,
        ...(targets && { targets }),
      },
    ],
    async run({ tools, profile }, to) {
      return { [id]: await pgbench(tools, to, profile.toolSeconds, clients) };
    },
  };
}

/**
 * pgbench -S -c 4 through linkfwd's Unix listener (`-h <dir>`); direct is PostgreSQL's TCP port.
 * Its target is the same mode's TCP-listener figure, the `pgbench4` row of the same rounds.
 */
export const pgbenchUnix: Case = {
  id: 'pgunix',
  target: 'pgunix',
  tools: ['pgbench', 'initdb', 'postgres'],
  metrics: [
    {
      id: 'pgunix',
      label: 'pgbench -S -c 4 -j 2, Unix listener (direct: TCP)',
      unit: 'TPS',
      better: 'higher',
      digits: 0,
      targets: [{ vs: 'linkfwd', metric: 'pgbench4', ratio: 0.95, name: 'TCP listener' }],
    },
  ],
  async run({ tools, profile }, to) {
    return { pgunix: await pgbench(tools, to, profile.toolSeconds, 4) };
  },
};

const REDIS_TARGETS: Target[] = [{ vs: 'haproxy', ratio: 1 }];

export const redis: Case = {
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
      targets: REDIS_TARGETS,
    },
    {
      id: 'redis_set',
      label: 'redis-benchmark SET -c 50',
      unit: 'req/s',
      better: 'higher',
      digits: 0,
      targets: REDIS_TARGETS,
    },
  ],
  async run({ tools, profile }, to) {
    const { get, set } = await redisBenchmark(tools, to, profile.redisRequests);
    return { redis_get: get, redis_set: set };
  },
};
