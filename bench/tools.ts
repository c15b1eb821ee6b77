/**
 * The external tools the bench drives, where to find them, the Debian packages that provide
 * them, and the machine description that heads every result. A tool that is still missing
 * after the setup step is reported in the table, never silently dropped.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { postgresBinDir, which } from '../test/helpers/tools.js';
import { runCommand } from './processes.js';

export const TOOLS = {
  socat: 'socat',
  haproxy: 'haproxy',
  iperf3: 'iperf3',
  hyperfine: 'hyperfine',
  'redis-server': 'redis-server',
  'redis-benchmark': 'redis-tools',
  pgbench: 'postgresql-contrib',
  initdb: 'postgresql',
  postgres: 'postgresql',
  prlimit: 'util-linux',
  // Counts linkfwd's forwarding threads by their listening sockets (modes.ts).
  ss: 'iproute2',
} as const;

export type Tool = keyof typeof TOOLS;
export type ToolPaths = Partial<Record<Tool, string>>;

export function findTools(): ToolPaths {
  const found: ToolPaths = {};
  const postgres = postgresBinDir();
  for (const tool of Object.keys(TOOLS) as Tool[]) {
    const path = which(tool, postgres === undefined ? [] : [postgres]);
    if (path !== undefined) found[tool] = path;
  }
  return found;
}

/**
 * The setup step: on Debian, as root, `apt-get install` the packages of missing tools.
 * Returns what is still missing afterwards, with the reason.
 */
export async function installMissing(
  found: ToolPaths,
  log: (line: string) => void,
): Promise<{ tools: ToolPaths; notes: string[] }> {
  const missing = (Object.keys(TOOLS) as Tool[]).filter((t) => found[t] === undefined);
  if (missing.length === 0) return { tools: found, notes: [] };
  const packages = [...new Set(missing.map((t) => TOOLS[t]))];
  const notes: string[] = [];
  if (!existsSync('/etc/debian_version') || process.getuid?.() !== 0) {
    notes.push(`not installed (needs Debian and root): ${packages.join(' ')}`);
    return { tools: found, notes };
  }
  log(`setup: apt-get install -y ${packages.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const args = ['install', '-y', '--no-install-recommends', ...packages];
  let result = await runCommand('apt-get', args, { env, timeoutMs: 600_000 });
  if (result.code !== 0) {
    await runCommand('apt-get', ['update'], { env, timeoutMs: 300_000 });
    result = await runCommand('apt-get', args, { env, timeoutMs: 600_000 });
  }
  if (result.code !== 0)
    notes.push(`apt-get install failed: ${result.stderr.trim().split('\n').pop()}`);
  return { tools: findTools(), notes };
}

/** `tool --version`-style output reduced to the version (e.g. `socat 1.7.4.4`). */
function versionOf(path: string, args: string[], pattern: RegExp): string {
  try {
    const out = execFileSync(path, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 5000,
    });
    return pattern.exec(out)?.[1] ?? out.trim().split('\n')[0] ?? '?';
  } catch {
    return '?';
  }
}

const VERSION_QUERIES: Partial<Record<Tool, [string[], RegExp]>> = {
  socat: [['-V'], /socat version (\S+)/],
  haproxy: [['-v'], /version (\S+)/],
  iperf3: [['--version'], /iperf (\S+)/],
  hyperfine: [['--version'], /hyperfine (\S+)/],
  'redis-server': [['--version'], /v=(\S+)/],
  pgbench: [['--version'], /\) (\S+)/],
};

export interface Machine {
  nproc: number;
  cpu: string;
  kernel: string;
  node: string;
  memory: string;
  versions: Record<string, string>;
}

export function describeMachine(tools: ToolPaths): Machine {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? '?';
  const versions: Record<string, string> = {};
  for (const [tool, [args, pattern]] of Object.entries(VERSION_QUERIES) as [
    Tool,
    [string[], RegExp],
  ][]) {
    const path = tools[tool];
    if (path !== undefined) versions[tool] = versionOf(path, args, pattern);
  }
  return {
    nproc: os.availableParallelism(),
    cpu,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    versions,
  };
}
