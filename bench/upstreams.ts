/**
 * The services the modes forward to: the Node echo and sink processes, a UDP echo and an iperf3
 * server on 127.0.0.2, PostgreSQL on 127.0.0.2 (a throwaway cluster in a temp dir), Redis on
 * 127.0.0.3.
 * Each start function registers its own cleanup with `onStop` before it can fail.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initCluster } from '../test/helpers/postgres.js';
import { UPSTREAM_PROGRAM, waitForLine } from '../test/helpers/process.js';
import { REDIS_HOST, redisServerArgs } from '../test/helpers/services.js';
import { freePort, REMOTE } from '../test/helpers/sockets.js';
import { recordPort, runCommand, start, stderrOf, waitForPort } from './processes.js';
import type { ToolPaths } from './tools.js';

export interface Endpoint {
  /** A host, or for a Unix listener the socket's directory (as `pgbench -h` takes it). */
  host: string;
  port: number;
  /** A UDP service: forwarders listen for datagrams, clients send them. */
  udp?: boolean;
  /** Forwarders that can listen on a Unix socket for this target do (linkfwd only). */
  unixListener?: boolean;
}

/** The socket libpq dials for `-h DIR -p PORT`: where a Unix listener for PostgreSQL listens. */
export function libpqSocket(dir: string, port: number): string {
  return join(dir, `.s.PGSQL.${port}`);
}

/** Stops or removes one thing the bench started; may be async. */
export type Cleanup = () => unknown;

/**
 * One Node upstream (`test/fixtures/upstream.mjs MODE`), a process of its own so that it never
 * shares an event loop with the client or the forwarder measured. Its stdin stays open: it
 * exits when the bench is gone, whatever way the bench went.
 */
async function startNodeServer(
  mode: 'echo' | 'sink',
  onStop: (c: Cleanup) => void,
): Promise<Endpoint> {
  const m = start(
    `upstream-${mode}`,
    process.execPath,
    [UPSTREAM_PROGRAM, mode, REMOTE, '0', '0'],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  onStop(() => m.stop());
  const line = await waitForLine(m.child, /^listening \d+$/, 15_000, m.name, stderrOf(m));
  const port = Number(line.split(' ')[1]);
  recordPort(REMOTE, port);
  return { host: REMOTE, port };
}

/**
 * - echo: writes back whatever arrives (ping-pong, connection rate, idle connections).
 * - sink: counts what arrives and replies with the count when the client half-closes (bulk
 *   throughput measured as bytes delivered).
 */
export async function startNodeUpstream(
  onStop: (c: Cleanup) => void,
): Promise<{ echo: Endpoint; sink: Endpoint }> {
  return {
    echo: await startNodeServer('echo', onStop),
    sink: await startNodeServer('sink', onStop),
  };
}

const UDP_ECHO = fileURLToPath(new URL('./udp-echo.ts', import.meta.url));

/** `bench/udp-echo.ts` on {@link REMOTE}: echoes every datagram to its sender. */
export async function startUdpEcho(onStop: (c: Cleanup) => void): Promise<Endpoint> {
  const m = start('udp-echo', process.execPath, ['--import', 'tsx', UDP_ECHO, REMOTE], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onStop(() => m.stop());
  const line = await waitForLine(m.child, /^\{"port":\d+\}$/, 15_000, m.name, stderrOf(m));
  return { host: REMOTE, port: (JSON.parse(line) as { port: number }).port, udp: true };
}

export async function startIperf(
  tools: ToolPaths,
  onStop: (c: Cleanup) => void,
): Promise<Endpoint> {
  const port = await freePort(REMOTE);
  // iperf3 -s serves one test at a time and keeps serving after each. Readiness is its "Server
  // listening" line (--forceflush: stdout is a pipe), not a probe connection.
  const m = start(
    'iperf3',
    tools.iperf3!,
    ['-s', '-B', REMOTE, '-p', String(port), '--forceflush'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  onStop(() => m.stop());
  await waitForLine(m.child, /listening/, 10_000, 'iperf3 -s', stderrOf(m));
  recordPort(REMOTE, port);
  return { host: REMOTE, port };
}

/**
 * A throwaway cluster (`initCluster`), then the server itself as our child (not `pg_ctl start`,
 * which would detach it from our process group), socket dir inside the temp dir, durability
 * off; `pgbench -i -s 1` loads it.
 */
export async function startPostgres(
  tools: ToolPaths,
  onStop: (c: Cleanup) => void,
): Promise<Endpoint> {
  const { dir, data, user, remove } = await initCluster('linkfwd-bench-pg-');
  onStop(remove);
  const port = await freePort(REMOTE);
  const settings = [
    'fsync=off',
    'synchronous_commit=off',
    'full_page_writes=off',
    'shared_buffers=128MB',
  ];
  const m = start(
    'postgres',
    tools.postgres!,
    [
      '-D',
      data,
      '-h',
      REMOTE,
      '-p',
      String(port),
      '-k',
      dir,
      ...settings.flatMap((s) => ['-c', s]),
    ],
    { ...user, cwd: dir, stopSignal: 'SIGINT', graceMs: 5000 },
  );
  onStop(() => m.stop());
  await waitForPort(REMOTE, port, 60_000, m, stderrOf(m));
  recordPort(REMOTE, port);
  const load = await runCommand(
    tools.pgbench!,
    ['-i', '-q', '-s', '1', '-h', REMOTE, '-p', String(port), '-U', 'postgres', 'postgres'],
    { timeoutMs: 120_000 },
  );
  if (load.code !== 0)
    throw new Error(`pgbench -i failed: ${load.stderr.trim().split('\n').pop()}`);
  return { host: REMOTE, port };
}

export async function startRedis(
  tools: ToolPaths,
  onStop: (c: Cleanup) => void,
): Promise<Endpoint> {
  const dir = mkdtempSync(join(tmpdir(), 'linkfwd-bench-redis-'));
  onStop(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort(REDIS_HOST);
  const m = start('redis-server', tools['redis-server']!, redisServerArgs(REDIS_HOST, port, dir), {
    cwd: dir,
  });
  onStop(() => m.stop());
  await waitForPort(REDIS_HOST, port, 15_000, m, stderrOf(m));
  recordPort(REDIS_HOST, port);
  return { host: REDIS_HOST, port };
}
