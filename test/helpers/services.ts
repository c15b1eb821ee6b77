/**
 * Real servers for the end-to-end tests and the bench: which are installed, redis-server, and
 * the link variables Docker gives a container (PostgreSQL has `postgres.ts`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedFreePort, waitFor } from './sockets.js';
import { postgresBinDir, which } from './tools.js';

/** Where redis-server listens: a loopback address of its own, apart from `REMOTE` (`sockets.ts`). */
export const REDIS_HOST = '127.0.0.3';

/**
 * Why the end-to-end tests with real servers cannot run here, or `false` when they can. In CI
 * (`CI` set) a missing server is a failure, not a skip: `.ci/run` installs the packages.
 */
export function missingServers(): string | false {
  const missing = [
    postgresBinDir() === undefined && 'postgresql (initdb, pg_ctl)',
    which('psql') === undefined && 'postgresql-client (psql)',
    which('redis-server') === undefined && 'redis-server',
  ].filter((name) => name !== false);
  if (missing.length === 0) return false;
  const why = `not installed: ${missing.join(', ')} (apt-get install postgresql postgresql-client redis-server)`;
  if (process.env.CI) throw new Error(`${why}; .ci/run must install them`);
  return why;
}

/**
 * Docker's link variables for `--link <container>:<alias>` to a container exposing `port`
 * (README: "Link variables"): `<ALIAS>_PORT_<port>_TCP=tcp://host:port` and its companions, which linkfwd
 * must ignore, including a copied environment variable that holds a secret.
 */
export function dockerLinkEnv(alias: string, host: string, port: number): Record<string, string> {
  const prefix = `${alias.toUpperCase()}_PORT_${port}_TCP`;
  return {
    [`${alias.toUpperCase()}_PORT`]: `tcp://${host}:${port}`,
    [prefix]: `tcp://${host}:${port}`,
    [`${prefix}_ADDR`]: host,
    [`${prefix}_PORT`]: String(port),
    [`${prefix}_PROTO`]: 'tcp',
    [`${alias.toUpperCase()}_NAME`]: `/app/${alias.toLowerCase()}`,
    [`${alias.toUpperCase()}_ENV_PASSWORD`]: 'not-a-forward',
  };
}

/** A redis-server of its own, in the foreground, without persistence. */
export interface Redis {
  host: string;
  port: number;
  child: ChildProcess;
  /** Kills the server and resolves once it has exited. Safe to call twice. */
  destroy(): Promise<void>;
}

/** Starts redis-server on `host:port` only and resolves once it accepts connections. */
export async function startRedis(options: { host?: string; port?: number } = {}): Promise<Redis> {
  const host = options.host ?? REDIS_HOST;
  const port = options.port ?? (await sharedFreePort([host, '127.0.0.1', '::1'], 6379));
  const dir = mkdtempSync(join(tmpdir(), 'linkfwd-redis-'));
  const child = spawn('redis-server', redisServerArgs(host, port, dir), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: string) => {
    output += chunk;
  };
  child.stdout?.setEncoding('utf8').on('data', collect);
  child.stderr?.setEncoding('utf8').on('data', collect);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const redis: Redis = {
    host,
    port,
    child,
    async destroy() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor(
      `redis-server on ${host}:${port} (output: ${JSON.stringify(output)})`,
      () => /Ready to accept connections/.test(output) || child.exitCode !== null,
      10_000,
    );
    if (child.exitCode !== null) throw new Error(`redis-server exited: ${output}`);
  } catch (error) {
    await redis.destroy();
    throw error;
  }
  return redis;
}

/** A redis-server that listens on `host:port` only, keeps nothing on disk, stays in the foreground. */
export function redisServerArgs(host: string, port: number, dir: string): string[] {
  return [
    '--bind',
    host,
    '--port',
    String(port),
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--dir',
    dir,
  ];
}
