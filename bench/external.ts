/**
 * The C load generators: iperf3 (bulk), pgbench (PostgreSQL select-only) and redis-benchmark
 * (GET/SET). Each run is one process, its own process group, killed on its deadline.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { runCommand } from './processes.js';
import type { ToolPaths } from './tools.js';
import type { Endpoint } from './upstreams.js';

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}

/**
 * iperf3 client → Gbit/s received. The server takes one test at a time and, through a
 * forwarder, learns a little late that the previous one ended: "busy" is retried.
 */
export async function iperf(
  tools: ToolPaths,
  to: Endpoint,
  streams: number,
  seconds: number,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await iperfOnce(tools, to, streams, seconds);
    } catch (error) {
      if (attempt >= 10 || !/busy/.test(String(error))) throw error;
      await sleep(200);
    }
  }
}

async function iperfOnce(
  tools: ToolPaths,
  to: Endpoint,
  streams: number,
  seconds: number,
): Promise<number> {
  const args = [
    '-c',
    to.host,
    '-p',
    String(to.port),
    '-t',
    String(seconds),
    '-P',
    String(streams),
    '-J',
  ];
  const result = await runCommand(tools.iperf3!, args, { timeoutMs: (seconds + 20) * 1000 });
  let report: { end?: { sum_received?: { bits_per_second?: number } }; error?: string };
  try {
    report = JSON.parse(result.stdout);
  } catch {
    throw new Error(`iperf3 exited ${result.code}: ${lastLine(result.stderr)}`);
  }
  const bps = report.end?.sum_received?.bits_per_second;
  if (result.code !== 0 || bps === undefined)
    throw new Error(`iperf3: ${report.error ?? lastLine(result.stderr)}`);
  return bps / 1e9;
}

/**
 * `pgbench -S -c clients -j 2 -T seconds` → TPS without initial connection time. `to.host` may
 * be a directory: libpq then dials the Unix socket `<dir>/.s.PGSQL.<port>`.
 */
export async function pgbench(
  tools: ToolPaths,
  to: Endpoint,
  seconds: number,
  clients = 4,
): Promise<number> {
  const args = ['-S', '-n', '-c', String(clients), '-j', '2', '-T', String(seconds)];
  const target = ['-h', to.host, '-p', String(to.port), '-U', 'postgres', 'postgres'];
  const result = await runCommand(tools.pgbench!, [...args, ...target], {
    timeoutMs: (seconds + 30) * 1000,
  });
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(result.stdout)?.[1];
  if (result.code !== 0 || tps === undefined) {
    throw new Error(
      `pgbench exited ${result.code}: ${lastLine(result.stderr) || lastLine(result.stdout)}`,
    );
  }
  return Number(tps);
}

/** redis-benchmark -t get,set -c 50 → requests per second for each. */
export async function redisBenchmark(
  tools: ToolPaths,
  to: Endpoint,
  requests: number,
): Promise<{ get: number; set: number }> {
  const args = [
    '-h',
    to.host,
    '-p',
    String(to.port),
    '-t',
    'set,get',
    '-n',
    String(requests),
    '-c',
    '50',
    '--csv',
  ];
  // Bounded: through socat (listen backlog 5) 50 clients connecting at once can stall it.
  const timeoutMs = 5000 + requests / 4;
  const result = await runCommand(tools['redis-benchmark']!, args, { timeoutMs });
  if (result.timedOut)
    throw new Error(`redis-benchmark stalled: no result in ${timeoutMs / 1000} s`);
  const rps = (test: string) => {
    const value = new RegExp(`^"${test}","([\\d.]+)"`, 'm').exec(result.stdout)?.[1];
    if (value === undefined)
      throw new Error(`redis-benchmark exited ${result.code}: ${lastLine(result.stderr)}`);
    return Number(value);
  };
  return { get: rps('GET'), set: rps('SET') };
}
