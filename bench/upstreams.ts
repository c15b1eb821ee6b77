/**
 * The services the modes forward to: the Node echo/sink process and an iperf3 server on
 * 127.0.0.2, PostgreSQL on 127.0.0.2 (a throwaway cluster in a temp dir), Redis on 127.0.0.3.
 * Each start function registers its own cleanup with `onStop` before it can fail.
 */
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { redisServerArgs } from '../test/helpers/services.js';
import {
  freePort,
  type Managed,
  recordPort,
  runCommand,
  start,
  stderrOf,
  waitForPort,
} from './processes.js';
import type { ToolPaths } from './tools.js';

export interface Endpoint {
  host: string;
  port: number;
}

/** Stops or removes one thing the bench started; may be async. */
export type Cleanup = () => unknown;

const UPSTREAM = fileURLToPath(new URL('./upstream-server.ts', import.meta.url));
export const UPSTREAM_HOST = '127.0.0.2';
export const REDIS_HOST = '127.0.0.3';

/** Reads the first stdout line of `m`, failing when it exits or the deadline passes. */
function firstLine(m: Managed, timeoutMs: number, stderr: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: m.child.stdout! });
    const timer = setTimeout(
      () => reject(new Error(`${m.name}: no output in ${timeoutMs} ms`)),
      timeoutMs,
    );
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    void m.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${m.name} exited with ${code}: ${stderr()}`));
    });
  });
}

export async function startNodeUpstream(
  onStop: (c: Cleanup) => void,
): Promise<{ echo: Endpoint; sink: Endpoint }> {
  const m = start('upstream', process.execPath, ['--import', 'tsx', UPSTREAM, UPSTREAM_HOST], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onStop(() => m.stop());
  const ports = JSON.parse(await firstLine(m, 15_000, stderrOf(m))) as {
    echo: number;
    sink: number;
  };
  recordPort(UPSTREAM_HOST, ports.echo);
  recordPort(UPSTREAM_HOST, ports.sink);
  return {
    echo: { host: UPSTREAM_HOST, port: ports.echo },
    sink: { host: UPSTREAM_HOST, port: ports.sink },
  };
}

export async function startIperf(
  tools: ToolPaths,
  onStop: (c: Cleanup) => void,
): Promise<Endpoint> {
  const port = await freePort(UPSTREAM_HOST);
  // iperf3 -s serves one test at a time and keeps serving after each. Readiness is its "Server
  // listening" line (--forceflush: stdout is a pipe), not a probe connection.
  const m = start(
    'iperf3',
    tools.iperf3!,
    ['-s', '-B', UPSTREAM_HOST, '-p', String(port), '--forceflush'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  onStop(() => m.stop());
  const stderr = stderrOf(m);
  const lines = createInterface({ input: m.child.stdout! });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('iperf3 -s did not start')), 10_000);
    lines.on('line', (line) => {
      if (line.includes('listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void m.exited.then((code) => reject(new Error(`iperf3 -s exited with ${code}: ${stderr()}`)));
  });
  recordPort(UPSTREAM_HOST, port);
  return { host: UPSTREAM_HOST, port };
}

function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (line === undefined)
    throw new Error('running as root but there is no postgres user to run initdb as');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * A throwaway cluster: `initdb` into a temp dir (as the postgres user when root), then the
 * server itself as our child (not `pg_ctl start`, which would detach it from our process
 * group), socket dir inside the temp dir, durability off; `pgbench -i -s 1` loads it.
 */
export async function startPostgres(
  tools: ToolPaths,
  onStop: (c: Cleanup) => void,
): Promise<Endpoint> {
  const dir = mkdtempSync(join(tmpdir(), 'linkfwd-bench-pg-'));
  onStop(() => rmSync(dir, { recursive: true, force: true }));
  const user = postgresUser();
  if (user !== undefined) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const init = await runCommand(
    tools.initdb!,
    ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'],
    { ...user, cwd: dir, timeoutMs: 120_000 },
  );
  if (init.code !== 0) throw new Error(`initdb failed: ${init.stderr.trim().split('\n').pop()}`);
  const port = await freePort(UPSTREAM_HOST);
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
      UPSTREAM_HOST,
      '-p',
      String(port),
      '-k',
      dir,
      ...settings.flatMap((s) => ['-c', s]),
    ],
    { ...user, cwd: dir, stopSignal: 'SIGINT', graceMs: 5000 },
  );
  onStop(() => m.stop());
  await waitForPort(UPSTREAM_HOST, port, 60_000, m, stderrOf(m));
  recordPort(UPSTREAM_HOST, port);
  const load = await runCommand(
    tools.pgbench!,
    ['-i', '-q', '-s', '1', '-h', UPSTREAM_HOST, '-p', String(port), '-U', 'postgres', 'postgres'],
    { timeoutMs: 120_000 },
  );
  if (load.code !== 0)
    throw new Error(`pgbench -i failed: ${load.stderr.trim().split('\n').pop()}`);
  return { host: UPSTREAM_HOST, port };
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
