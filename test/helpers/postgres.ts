/**
 * Throwaway PostgreSQL clusters, for the end-to-end tests and the bench: `initdb` into a temp
 * dir (trust authentication, no fsync), as the `postgres` user when running as root, since
 * PostgreSQL refuses to run as root.
 */
import { type ExecFileOptions, execFile, spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REMOTE, sharedFreePort } from './sockets.js';
import { postgresBinDir } from './tools.js';

const execFileAsync = promisify(execFile);

/** Who PostgreSQL's programs run as: the `postgres` user as root, else ourselves (undefined). */
export function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) =>
    Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const ids = { uid: id('-u'), gid: id('-g') };
  if (!(ids.uid > 0)) throw new Error('no postgres user (apt-get install postgresql creates it)');
  return ids;
}

/** A cluster initdb'd into a temp dir of its own, its server not started. */
export interface Cluster {
  /** The temp dir: the cluster's `data` dir, its log, its Unix socket. Owned by {@link user}. */
  dir: string;
  data: string;
  /** Where `initdb`, `pg_ctl` and `postgres` are. */
  bin: string;
  user: { uid: number; gid: number } | undefined;
  /** Runs one of the server programs (`pg_ctl`) as {@link user}, in {@link dir}. */
  run(program: string, args: readonly string[], timeout?: number): Promise<unknown>;
  /** Removes the temp dir. */
  remove(): void;
}

/** `initdb` into a new temp dir named `prefix…`; removed again when initdb fails. */
export async function initCluster(prefix: string): Promise<Cluster> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error('PostgreSQL server binaries not found');
  const user = postgresUser();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const options: ExecFileOptions = { ...user, cwd: dir };
  const cluster: Cluster = {
    dir,
    data: join(dir, 'data'),
    bin,
    user,
    run: (program, args, timeout = 120_000) =>
      execFileAsync(join(bin, program), args, { ...options, timeout, killSignal: 'SIGKILL' }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  try {
    if (user !== undefined) chownSync(dir, user.uid, user.gid);
    const locale = ['--encoding=UTF8', '--locale=C'];
    await cluster.run('initdb', [
      '-D',
      cluster.data,
      '--auth=trust',
      '--username=postgres',
      ...locale,
      '--no-sync',
    ]);
  } catch (error) {
    cluster.remove();
    throw error;
  }
  return cluster;
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
 * A throwaway cluster ({@link initCluster}) listening only on `host:port` (TCP) and in its own
 * directory (Unix socket), started with `pg_ctl`. If anything fails on the way, what was
 * created is removed before the error is thrown.
 */
export async function startPostgres(
  options: { host?: string; port?: number } = {},
): Promise<Postgres> {
  const host = options.host ?? REMOTE;
  const port = options.port ?? (await sharedFreePort([host, '127.0.0.1', '::1'], 5432));
  const cluster = await initCluster('linkfwd-pg-');
  const { dir, data } = cluster;
  const log = join(dir, 'server.log');
  const pgCtl = (...args: string[]) => cluster.run('pg_ctl', ['-D', data, ...args]);

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
      cluster.remove();
    },
  };
  try {
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
