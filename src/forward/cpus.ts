import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { LinkfwdError } from '../errors.js';
import { debugForward } from '../log.js';

/**
 * `--threads auto` uses at most this many: each thread costs ~13.5 MB and a worker start-up,
 * and a forwarder's work per message is small enough that a few threads keep up with the app.
 */
const MAX_AUTO_THREADS = 4;

/** The first Node whose `listen()` takes `reusePort` (SO_REUSEPORT). */
const REUSE_PORT_SINCE = [22, 12];

/** Whether this Node can bind one port in several threads. */
export function supportsReusePort(version = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const [needMajor = 0, needMinor = 0] = REUSE_PORT_SINCE;
  return major > needMajor || (major === needMajor && minor >= needMinor);
}

/**
 * The CPUs the cgroup's quota allows, rounded up, or undefined without a quota: cgroup v2
 * `cpu.max` ("max 100000", "200000 100000"), else v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`.
 */
export function cgroupCpuLimit(root = '/sys/fs/cgroup'): number | undefined {
  const v2 = readText(`${root}/cpu.max`)?.trim().split(/\s+/);
  if (v2 !== undefined) return quotaCpus(v2[0], v2[1]);
  for (const dir of [`${root}/cpu`, `${root}/cpu,cpuacct`, `${root}/cpuacct,cpu`]) {
    const quota = readText(`${dir}/cpu.cfs_quota_us`);
    if (quota !== undefined) return quotaCpus(quota.trim(), readText(`${dir}/cpu.cfs_period_us`));
  }
  return undefined;
}

function quotaCpus(quota: string | undefined, period: string | undefined): number | undefined {
  const q = Number(quota);
  const p = Number(period?.trim());
  // "max" and v1's -1 mean no quota.
  if (!Number.isFinite(q) || q <= 0 || !Number.isFinite(p) || p <= 0) return undefined;
  return Math.max(1, Math.ceil(q / p));
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

/**
 * `auto`: one thread per CPU this process may really use, less one left to the app and its
 * services, at most {@link MAX_AUTO_THREADS}. Measured on 2 cores (BENCHMARKS.md, "Forwarding
 * threads"): a second thread there was no faster (the clients and the upstreams need the same
 * cores) and cost 16 MB and ~110 ms of start-up, so 2 CPUs get one thread.
 */
export function autoThreads(cpus = availableParallelism(), quota = cgroupCpuLimit()): number {
  return Math.max(1, Math.min(cpus - 1, (quota ?? cpus) - 1, MAX_AUTO_THREADS));
}

/**
 * The forwarding threads to run for a `--threads` value. A Node without `reusePort` runs one
 * (with `auto`, a debug line says why); asked for more explicitly, it is a usage error.
 *
 * @throws {LinkfwdError} ERR_LINKFWD_USAGE: `--threads 2 needs Node 22.12 or later`.
 */
export function resolveThreads(
  value: number | 'auto' | undefined,
  version = process.versions.node,
): number {
  const wanted = value === undefined ? 1 : value === 'auto' ? autoThreads() : value;
  if (wanted <= 1 || supportsReusePort(version)) return wanted;
  if (value === 'auto') {
    debugForward('one forwarding thread: Node %s has no reusePort (22.12 or later)', version);
    return 1;
  }
  throw new LinkfwdError(
    'ERR_LINKFWD_USAGE',
    `--threads ${wanted} needs Node 22.12 or later (this is Node ${version}); use --threads 1`,
  );
}
