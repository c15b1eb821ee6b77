import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { linkfwdCommand } from './cli.js';

/** Open file descriptors of process `pid` (`/proc/<pid>/fd`). */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident set size of process `pid` in bytes (`VmRSS` of `/proc/<pid>/status`). */
export function rss(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/** The direct children of process `pid` (`/proc/<pid>/task/<tid>/children`, all threads). */
export function childPids(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
    readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
      .split(' ')
      .filter((word) => word !== '')
      .map(Number),
  );
}

/**
 * The number of signal `name` on this platform (0 when it has none): a process killed by it
 * exits with 128 + this number in a shell, and in linkfwd.
 */
export function signalNumber(name: NodeJS.Signals): number {
  return (constants.signals as Record<string, number | undefined>)[name] ?? 0;
}

/** Whether process `pid` exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Tracks the peak RSS of a process, sampling every `every` ms until {@link RssSampler.stop}. */
export class RssSampler {
  peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    every = 50,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), every);
  }

  sample(): number {
    try {
      const now = rss(this.pid);
      this.peak = Math.max(this.peak, now);
      return now;
    } catch {
      return 0; // the process has gone; the test notices that itself
    }
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

export interface Limits {
  /** RLIMIT_NOFILE, soft and hard. */
  nofile?: number;
  /** RLIMIT_STACK in bytes, soft and hard; execve() accepts a quarter of it as argv + env. */
  stack?: number;
}

function prlimitArgs(limits: Limits): string[] {
  const args: string[] = [];
  if (limits.nofile !== undefined) args.push(`--nofile=${limits.nofile}:${limits.nofile}`);
  if (limits.stack !== undefined) args.push(`--stack=${limits.stack}:${limits.stack}`);
  return args;
}

/** This process's limit, soft or hard (`Infinity` for unlimited), from `/proc/self/limits`. */
export function ownLimit(resource: 'NOFILE' | 'STACK', which: 'SOFT' | 'HARD' = 'SOFT'): number {
  const label = resource === 'NOFILE' ? 'Max open files' : 'Max stack size';
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(label));
  if (line === undefined) throw new Error(`no "${label}" in /proc/self/limits`);
  const [soft, hard] = line.slice(label.length).trim().split(/\s+/);
  const value = which === 'SOFT' ? soft : hard;
  return value === 'unlimited' ? Number.POSITIVE_INFINITY : Number(value);
}

/**
 * Raises this test process's own limits (children spawned later inherit them); a limit already
 * at or above the one asked for is left alone. Without CAP_SYS_RESOURCE a hard limit cannot
 * be raised: the soft one then goes up to it, and the limit in force is returned.
 */
export function raiseOwnLimits(limits: Limits): Required<Limits> {
  for (const [key, resource] of [
    ['nofile', 'NOFILE'],
    ['stack', 'STACK'],
  ] as const) {
    const wanted = limits[key];
    if (wanted === undefined || ownLimit(resource) >= wanted) continue;
    const args = ['--pid', String(process.pid)];
    const set = (soft: number, hard: number | '') =>
      spawnSync('prlimit', [...args, `--${key}=${soft}:${hard}`]);
    if (set(wanted, wanted).status !== 0) {
      const hard = ownLimit(resource, 'HARD');
      if (set(Math.min(wanted, hard), '').status !== 0) throw new Error(`prlimit --${key} failed`);
    }
  }
  return { nofile: ownLimit('NOFILE'), stack: ownLimit('STACK') };
}

/**
 * How to start linkfwd ({@link linkfwdCommand}) under `limits`: `prlimit` sets them and
 * exec()s linkfwd, so the pid is linkfwd's own. No shell.
 */
export function limitedCommand(
  limits: Limits,
  command = linkfwdCommand(),
): { file: string; args: string[] } {
  return { file: 'prlimit', args: [...prlimitArgs(limits), '--', command.file, ...command.args] };
}

/** A TCP listener as `ss -ltnp` shows it. */
export interface Listener {
  host: string;
  port: number;
  pids: number[];
}

/**
 * Every TCP listening socket of the network namespace (`ss -ltnp`), or of the one process
 * `nsPid` lives in when given (`nsenter --net`). Hosts come without brackets.
 */
export function tcpListeners(nsPid?: number, protocol: 'tcp' | 'udp' = 'tcp'): Listener[] {
  const ss = ['ss', protocol === 'tcp' ? '-ltnpH' : '-lunpH'];
  const argv = nsPid === undefined ? ss : ['nsenter', `--net=/proc/${nsPid}/ns/net`, '--', ...ss];
  const result = spawnSync(argv[0] ?? 'ss', argv.slice(1), { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${argv.join(' ')} failed: ${result.stderr}`);
  return result.stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      // State Recv-Q Send-Q Local:Port Peer:Port [Process]; UDP has no State column with -l.
      const fields = line.trim().split(/\s+/);
      const local = fields.find((field) => /:(\d+|\*)$/.test(field)) ?? '';
      const at = local.lastIndexOf(':');
      const host = local
        .slice(0, at)
        .replace(/^\[(.*)\]$/, '$1')
        .replace(/%.*$/, '');
      const pids = [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
      return { host, port: Number(local.slice(at + 1)), pids };
    });
}

/**
 * Local TCP ports in LISTEN state in this network namespace (`/proc/net/tcp` and `tcp6`):
 * a way to wait for a listener without connecting to it.
 */
export function listeningPorts(): Set<number> {
  const ports = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state === '0A' && local !== undefined)
        ports.add(Number.parseInt(local.split(':')[1] ?? '', 16));
    }
  }
  return ports;
}
