/**
 * `node --import tsx bench/ab.ts [--rounds N] [--ms MS] [--seconds S] [--cases LIST] MODE...`:
 * builds of linkfwd side by side, for "what each optimisation bought". Each MODE is `name=DIR`
 * (a checkout or copy with `package.json` and a built `dist/`; its npm bin is run) or one of
 * `direct`, `socat`, `haproxy`. Same upstreams and load generator as `npm run bench`, modes
 * rotated each round, medians; for each forwarder also its CPU time (user + system of its
 * process group, from /proc) per unit of work, which scatters far less than throughput on a busy
 * machine.
 *
 * Cases: bulk1, bulk8 (Node client, Gbit/s; CPU ms per GB), iperf1 (Gbit/s; CPU ms per GB),
 * conn, conn64 (connections/s; CPU µs per connection), ping (p50 and p99 µs), pg (pgbench -S -c 4
 * TPS; CPU µs per transaction).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { npmBin } from '../test/helpers/cli.js';
import { freePort } from '../test/helpers/sockets.js';
import { ClientWorker } from './client-worker.js';
import { iperf, pgbench } from './external.js';
import { directMode, type Mode, startHaproxy, startSocat, type Targets } from './modes.js';
import { shutdown, start, waitForPort } from './processes.js';
import { median } from './stats.js';
import { findTools } from './tools.js';
import {
  type Cleanup,
  type Endpoint,
  startIperf,
  startNodeUpstream,
  startPostgres,
} from './upstreams.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '5' },
    ms: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '3' },
    cases: { type: 'string', default: 'bulk1,iperf1,conn,ping,pg' },
  },
});
const rounds = Number(values.rounds);
const ms = Number(values.ms);
const seconds = Number(values.seconds);
const cases = (values.cases ?? '').split(',');
const cleanups: Cleanup[] = [];
const onStop = (c: Cleanup) => cleanups.push(c);
const tools = findTools();

interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  pgrp: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  ticks: number;
}

function procStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let text: string;
    try {
      text = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    // From the state on: ppid [1], pgrp [2], utime..cstime [11]..[14].
    const f = text
      .slice(text.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    const ticks = f[11]! + f[12]! + f[13]! + f[14]!;
    stats.push({ pid: Number(entry), comm, ppid: f[1]!, pgrp: f[2]!, ticks });
  }
  return stats;
}

/**
 * CPU time in ms of a forwarder: its process group (socat forks one process per connection, and
 * its reaped children count too); for socat, of every socat this bench started.
 */
function cpuMs(mode: Mode): number {
  const pid = mode.process?.child.pid;
  if (pid === undefined) return Number.NaN;
  const stats = procStats();
  const groups = new Set(
    mode.name === 'socat'
      ? stats.filter((s) => s.ppid === process.pid && s.comm === 'socat').map((s) => s.pid)
      : [pid],
  );
  return stats.filter((s) => groups.has(s.pgrp)).reduce((sum, s) => sum + s.ticks, 0) * 10;
}

async function startBuild(name: string, dir: string, targets: Targets): Promise<Mode> {
  const endpoints: Targets = {};
  const args = [npmBin(dir)];
  for (const [target, to] of Object.entries(targets)) {
    endpoints[target] = { host: '127.0.0.1', port: await freePort('127.0.0.1') };
    args.push('-f', `127.0.0.1:${endpoints[target].port}:${to.host}:${to.port}`);
  }
  args.push('--bind', '127.0.0.1', '--no-links', '--max-connections', '30000');
  const m = start(name, process.execPath, args, { graceMs: 15_000 });
  onStop(() => m.stop());
  for (const e of Object.values(endpoints)) await waitForPort(e.host, e.port, 15_000, m);
  // `Mode.name` is a ModeName; here it is the build's name, used only for the table.
  return { name: name as Mode['name'], label: name, endpoints, process: m };
}

/** Runs one case against `to`; the figures, and the units of work the CPU time is divided by. */
async function runCase(
  kind: string,
  client: ClientWorker,
  to: Record<string, Endpoint>,
): Promise<{ figures: Record<string, number>; units: number; unit: string }> {
  const timeout = ms + 30_000;
  if (kind === 'bulk1' || kind === 'bulk8') {
    const streams = kind === 'bulk1' ? 1 : 8;
    const r = await client.run({ kind: 'bulk', ...to.sink!, streams, durationMs: ms }, timeout);
    return { figures: { [kind]: r.value }, units: (r.value * ms) / 8000, unit: 'ms/GB' };
  }
  if (kind === 'conn' || kind === 'conn64') {
    const concurrency = kind === 'conn' ? 1 : 64;
    const job = { kind: 'connrate', ...to.echo!, concurrency, durationMs: ms } as const;
    const r = await client.run(job, timeout);
    return { figures: { [kind]: r.value }, units: (r.value * ms) / 1e6, unit: 'µs/conn' };
  }
  if (kind === 'ping') {
    const job = { kind: 'pingpong', ...to.echo!, durationMs: ms, maxIterations: 1e6 } as const;
    const r = await client.run(job, timeout);
    const { p50 = Number.NaN, p99 = Number.NaN, iterations = 0 } = r.extra ?? {};
    return { figures: { p50, p99 }, units: iterations / 1e3, unit: 'µs/round trip' };
  }
  if (kind === 'iperf1') {
    const gbit = await iperf(tools, to.iperf!, 1, seconds);
    return { figures: { iperf1: gbit }, units: (gbit * seconds) / 8, unit: 'ms/GB' };
  }
  if (kind === 'pg') {
    const tps = await pgbench(tools, to.postgres!, seconds);
    return { figures: { pg: tps }, units: (tps * seconds) / 1e3, unit: 'µs/txn' };
  }
  throw new Error(`unknown case ${kind}`);
}

async function main(): Promise<void> {
  const targets: Targets = await startNodeUpstream(onStop);
  if (cases.includes('pg')) targets.postgres = await startPostgres(tools, onStop);
  if (cases.includes('iperf1')) targets.iperf = await startIperf(tools, onStop);
  const modes: Mode[] = [];
  for (const spec of positionals) {
    const [name = '', dir] = spec.split('=');
    if (dir !== undefined) modes.push(await startBuild(name, dir, targets));
    else if (name === 'direct') modes.push(directMode(targets));
    else if (name === 'socat') modes.push(await startSocat(tools, targets, onStop));
    else if (name === 'haproxy') modes.push(await startHaproxy(tools, targets, onStop));
    else throw new Error(`${spec}: neither name=DIR nor direct, socat, haproxy`);
  }
  const client = new ClientWorker();
  onStop(() => client.stop());
  const figures: Record<string, Record<string, number[]>> = {};
  const add = (metric: string, mode: string, value: number) => {
    const byMode = figures[metric] ?? {};
    byMode[mode] = [...(byMode[mode] ?? []), value];
    figures[metric] = byMode;
  };
  for (let r = 0; r < rounds; r++) {
    const order = [...modes.slice(r % modes.length), ...modes.slice(0, r % modes.length)];
    for (const kind of cases) {
      for (const mode of order) {
        const before = cpuMs(mode);
        try {
          const result = await runCase(kind, client, mode.endpoints);
          for (const [metric, value] of Object.entries(result.figures))
            add(metric, mode.name, value);
          // A socat child that has exited counts once socat has reaped it.
          if (mode.name === 'socat') await new Promise((resolve) => setTimeout(resolve, 300));
          const cpu = (cpuMs(mode) - before) / result.units;
          if (!Number.isNaN(cpu)) add(`cpu ${kind} (${result.unit})`, mode.name, cpu);
        } catch (error) {
          process.stderr.write(`${kind} / ${mode.name}: ${(error as Error).message}\n`);
        }
      }
    }
    process.stderr.write(`round ${r + 1}/${rounds} done\n`);
  }
  const names = modes.map((m) => m.name);
  const rows = [`| metric | ${names.join(' | ')} |`, `|---|${names.map(() => '---:|').join('')}`];
  for (const [metric, byMode] of Object.entries(figures)) {
    const cells = names.map((n) => (byMode[n] ? median(byMode[n]).toFixed(2) : '—'));
    rows.push(`| ${metric} | ${cells.join(' | ')} |`);
  }
  process.stdout.write(`${rows.join('\n')}\n`);
}

try {
  await main();
} finally {
  await shutdown();
  for (const c of cleanups.reverse())
    await Promise.resolve()
      .then(c)
      .catch(() => {});
}
