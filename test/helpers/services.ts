import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from './sockets.js';

const run = promisify(execFile);

/** Where the real servers listen: loopback addresses linkfwd's own listeners never use. */
export const POSTGRES_HOST = '127.0.0.2';
export const REDIS_HOST = '127.0.0.3';

/**
 * Why the end-to-end tests with real servers cannot run here, or `false` when they can. In CI
 * (`CI` set) a missing server is a failure, not a skip: `.ci/run` installs the packages.
 */
export function missingServers(): string | false {
  const missing = [
    postgresBinDir() === undefined && 'postgresql (initdb, pg_ctl)',
    !onPath('psql') && 'postgresql-client (psql)',
    !onPath('redis-server') && 'redis-server',
  ].filter((name) => name !== false);
  if (missing.length === 0) return false;
  const why = `not installed: ${missing.join(', ')} (apt-get install postgresql postgresql-client redis-server)`;
  if (process.env.CI) throw new Error(`${why}; .ci/run must install them`);
  return why;
}

/**
 * A port that is free on every one of `hosts`: `preferred` when it is (the well-known port, as
 * in a container), else one the kernel picks for the first host that the others have free too.
 * A host without IPv6 (`::1` unavailable) counts as free there.
 */
export async function sharedFreePort(hosts: readonly string[], preferred: number): Promise<number> {
  const candidates = [preferred];
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = candidates.shift() ?? (await freePort(hosts[0]));
    if (await everyFree(hosts, port)) return port;
  }
  throw new Error(`no port free on all of ${hosts.join(', ')}`);
}

async function everyFree(hosts: readonly string[], port: number): Promise<boolean> {
  for (const host of hosts) if (!(await isFree(host, port))) return false;
  return true;
}

async function isFree(host: string, port: number): Promise<boolean> {
  const server = createServer();
  try {
    server.listen({ host, port, exclusive: true });
    await once(server, 'listening');
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT';
  } finally {
    if (server.listening) await new Promise((resolve) => server.close(resolve));
  }
}

/**
 * Docker's link variables for `--link <container>:<alias>` to a container exposing `port`
 * (SPEC §2.2): `<ALIAS>_PORT_<port>_TCP=tcp://host:port` and its companions, which linkfwd
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

/** A PostgreSQL cluster of its own, owned by the `postgres` user when the tests run as root. */
export interface Postgres {
  host: string;
  port: number;
  /** Starts the (stopped) server again and resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops the server at once (`-m immediate`: backends are killed, clients see EOF). */
  stop(): Promise<void>;
  /** Stops the server if it runs and removes the cluster. Safe to call twice. */
  destroy(): Promise<void>;
}

/**
 * initdb's a throwaway cluster (trust authentication, no fsync) listening only on
 * `host:port` (TCP) and in its own directory (Unix socket), and starts it. If anything fails
 * on the way, what was created is removed before the error is thrown.
 */
export async function startPostgres(
  options: { host?: string; port?: number } = {},
): Promise<Postgres> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error('PostgreSQL server binaries not found');
  const host = options.host ?? POSTGRES_HOST;
  const port = options.port ?? (await sharedFreePort([host, '127.0.0.1', '::1'], 5432));
  const dir = mkdtempSync(join(tmpdir(), 'linkfwd-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const owner = asPostgres();
  if (owner.ids !== undefined) chownSync(dir, owner.ids.uid, owner.ids.gid);
  const pgCtl = (...args: string[]) => owner.run(join(bin, 'pg_ctl'), ['-D', data, ...args]);

  let running = false;
  const postgres: Postgres = {
    host,
    port,
    async start() {
      try {
        await pgCtl('-l', log, '-w', '-t', '30', 'start');
      } catch (error) {
        throw new Error(`pg_ctl start failed: ${tail(log)}`, { cause: error });
      }
      running = true;
    },
    async stop() {
      running = false;
      await pgCtl('-m', 'immediate', '-w', '-t', '30', 'stop');
    },
    async destroy() {
      if (running) await postgres.stop().catch(() => killPostmaster(data));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await owner.run(join(bin, 'initdb'), [
      '-D',
      data,
      '--auth=trust',
      '--username=postgres',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    appendFileSync(
      join(data, 'postgresql.conf'),
      [
        `listen_addresses = '${host}'`,
        `port = ${port}`,
        `unix_socket_directories = '${dir}'`,
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        'max_wal_size = 1GB',
        '',
      ].join('\n'),
    );
    await postgres.start();
  } catch (error) {
    await postgres.destroy();
    throw error;
  }
  return postgres;
}

/** The newest `/usr/lib/postgresql/<major>/bin` (Debian), else the directory of `initdb` on PATH. */
function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((name) => /^\d+$/.test(name))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const major of majors) {
    if (existsSync(join(root, major, 'bin', 'initdb'))) return join(root, major, 'bin');
  }
  const found = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout.trim();
  return found === '' ? undefined : join(found, '..');
}

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

/**
 * PostgreSQL refuses to run as root: as root, commands run as `postgres` through runuser
 * (argv, no shell); as anyone else, as themselves.
 */
function asPostgres(): {
  ids: { uid: number; gid: number } | undefined;
  run(file: string, args: string[]): Promise<unknown>;
} {
  if (process.getuid?.() !== 0) return { ids: undefined, run: (file, args) => run(file, args) };
  const id = (flag: string) =>
    Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const ids = { uid: id('-u'), gid: id('-g') };
  if (!(ids.uid > 0)) throw new Error('no postgres user (apt-get install postgresql creates it)');
  return { ids, run: (file, args) => run('runuser', ['-u', 'postgres', '--', file, ...args]) };
}

/** Last resort when pg_ctl cannot stop the server: SIGKILL the postmaster from its pid file. */
function killPostmaster(data: string): void {
  try {
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (pid > 0) process.kill(pid, 'SIGKILL');
  } catch {
    // No pid file: nothing runs.
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return '(no server log)';
  }
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
