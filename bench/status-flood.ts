/**
 * Does a flood of the status endpoint slow forwarding down, and by how much of it is linkfwd's
 * own doing? 1-byte ping-pong through a forward of the built CLI (`node dist/linkfwd.cjs
 * --status … -f …`) for a fixed time, in three cases:
 *
 * - `idle`: nothing else;
 * - `flood elsewhere` (the control): the flood (bench/flood-programs.ts: 1,000 `/readyz`
 *   probes in flight, 200 slowloris, 20 senders of 16 KiB headers) aimed at a plain
 *   `node:http` server in another process, so that the flood's CPU competes with linkfwd and
 *   the ping-pong client as it would on linkfwd's endpoint, but linkfwd handles none of it;
 * - `flood on linkfwd`: the same flood aimed at linkfwd's `--status` endpoint.
 *
 * On a 2-core machine, the control separates machine contention from linkfwd's own handling.
 * The cases alternate over several rounds (each round in another order); the table shows
 * medians over rounds. linkfwd's CPU (utime + stime from /proc/<pid>/stat) during each window
 * gives its cost per hostile connection: its CPU in the flooded window, less the ping-pong's
 * share (CPU per round trip in the same round's idle window), over the connections the flood
 * opened. Prints figures; asserts nothing.
 *
 *   npm run build && node --import tsx bench/status-flood.ts [rounds, default 5] [seconds, default 3]
 *     [the CLI, default dist/linkfwd.cjs]
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { NPM_BIN as LINKFWD_BIN } from '../test/helpers/cli.js';
import { dialError, freePort } from '../test/helpers/sockets.js';
import { FLOOD, SINK } from './flood-programs.js';
import { type Managed, shutdown, start } from './processes.js';
import { formatNumber, median, rotate } from './stats.js';

const ROUNDS = Number(process.argv[2] ?? 5);
const SECONDS = Number(process.argv[3] ?? 3);
/** The CLI to measure: this checkout's build, or another (a build from before a change). */
const BIN = process.argv[4] ?? LINKFWD_BIN;
/** The flood runs this long before the window opens: its 1,000 probes are in flight by then. */
const WARM_UP_MS = 1500;
/** linkfwd's CPU clock: /proc reports clock ticks (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

type Case = 'idle' | 'flood elsewhere' | 'flood on linkfwd';
const CASES: readonly Case[] = ['idle', 'flood elsewhere', 'flood on linkfwd'];

interface Window {
  /** Round-trip times, µs. */
  times: number[];
  /** CPU seconds linkfwd used during the window. */
  linkfwdCpu: number;
  /** CPU seconds the sink used (the control only). */
  sinkCpu: number;
  /** Connections the flood opened and probes it had answered, during the window. */
  connections: number;
  answered: number;
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // Fields after the command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'latin1').split(' ').slice(0, 3).join(' ');
}

/** Ping-pong for `ms`: one byte out, wait for it back, again. */
async function pingPong(port: number, ms: number): Promise<number[]> {
  const socket: Socket = connect({ host: '127.0.0.1', port, noDelay: true });
  await once(socket, 'connect');
  const times: number[] = [];
  const one = Buffer.from('x');
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const started = process.hrtime.bigint();
    socket.write(one);
    await once(socket, 'data');
    times.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  socket.destroy();
  return times;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

interface Counts {
  connections: number;
  answered: number;
}

function askCounts(flood: Managed): Promise<Counts> {
  const reply = once(flood.child, 'message') as Promise<[Counts]>;
  flood.child.send('counts');
  return reply.then(([counts]) => counts);
}

async function measure(
  which: Case,
  ports: { listen: number; status: number; sink: number },
  pids: { linkfwd: number; sink: number },
): Promise<Window> {
  let flood: Managed | undefined;
  if (which !== 'idle') {
    const port = which === 'flood on linkfwd' ? ports.status : ports.sink;
    flood = start('flood', process.execPath, ['-e', FLOOD, String(port)], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      graceMs: 1000,
    });
    await sleep(WARM_UP_MS);
  }
  try {
    const before = flood === undefined ? { connections: 0, answered: 0 } : await askCounts(flood);
    const [linkfwd0, sink0] = [cpuSeconds(pids.linkfwd), cpuSeconds(pids.sink)];
    const times = await pingPong(ports.listen, SECONDS * 1000);
    const [linkfwd1, sink1] = [cpuSeconds(pids.linkfwd), cpuSeconds(pids.sink)];
    const after = flood === undefined ? before : await askCounts(flood);
    return {
      times,
      linkfwdCpu: linkfwd1 - linkfwd0,
      sinkCpu: sink1 - sink0,
      connections: after.connections - before.connections,
      answered: after.answered - before.answered,
    };
  } finally {
    await flood?.stop();
    await sleep(500); // the flood's sockets are closed; the endpoint settles
  }
}

async function main(): Promise<void> {
  const echo = createServer({ noDelay: true }, (s) => s.pipe(s));
  echo.listen({ host: '127.0.0.2', port: 0 });
  await once(echo, 'listening');
  const echoPort = (echo.address() as { port: number }).port;
  const listen = await freePort('127.0.0.1');
  const status = await freePort('127.0.0.1');
  const sinkPort = await freePort('127.0.0.1');
  const load = [loadAverage()];
  try {
    const sink = start('sink', process.execPath, ['-e', SINK, String(sinkPort)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const linkfwd = start(
      'linkfwd',
      process.execPath,
      [
        BIN,
        '--threads',
        '1',
        '--status',
        `127.0.0.1:${status}`,
        '-f',
        `127.0.0.1:${listen}:127.0.0.2:${echoPort}`,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    // The endpoint listens first, the forward after it.
    while ((await dialError(listen)) !== undefined) await sleep(50);
    while ((await dialError(sinkPort)) !== undefined) await sleep(50);
    const pids = { linkfwd: linkfwd.child.pid ?? 0, sink: sink.child.pid ?? 0 };
    const ports = { listen, status, sink: sinkPort };
    await pingPong(listen, 500); // warm-up
    const results = new Map<Case, Window[]>(CASES.map((c) => [c, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const which of rotate(CASES, round)) {
        const window = await measure(which, ports, pids);
        results.get(which)?.push(window);
        const { times, linkfwdCpu, connections } = window;
        console.error(
          `round ${round + 1} ${which}: p50 ${percentile(times, 0.5).toFixed(0)} µs, ` +
            `p99 ${percentile(times, 0.99).toFixed(0)} µs, ${times.length} round trips, ` +
            `linkfwd CPU ${(linkfwdCpu * 1000).toFixed(0)} ms, ${connections} flood connections`,
        );
      }
    }
    load.push(loadAverage());
    report(results);
    console.log(`\nload average before: ${load[0]}; after: ${load[1]}`);
  } finally {
    await shutdown();
    echo.close();
  }
}

function report(results: Map<Case, Window[]>): void {
  const idle = results.get('idle') ?? [];
  /** linkfwd's CPU per round trip in the same round's idle window. */
  const perTrip = idle.map((w) => w.linkfwdCpu / w.times.length);
  const us = (v: number) => formatNumber(v, 0);
  console.log(
    `\n${ROUNDS} rounds of ${SECONDS} s per case, medians over rounds:\n\n` +
      '| case | p50 | p99 | round trips/s | linkfwd CPU | flood connections/s | probes answered/s | linkfwd CPU per flood connection |\n' +
      '|---|---|---|---|---|---|---|---|',
  );
  for (const [which, windows] of results) {
    const m = (f: (w: Window, i: number) => number) => median(windows.map(f));
    const cost =
      which === 'flood on linkfwd'
        ? `${us(m((w, i) => ((w.linkfwdCpu - w.times.length * (perTrip[i] ?? 0)) / w.connections) * 1e6))} µs`
        : which === 'flood elsewhere'
          ? `(the sink: ${us(m((w) => (w.sinkCpu / w.connections) * 1e6))} µs)`
          : '—';
    console.log(
      `| ${which} | ${us(m((w) => percentile(w.times, 0.5)))} µs | ` +
        `${us(m((w) => percentile(w.times, 0.99)))} µs | ` +
        `${us(m((w) => w.times.length / SECONDS))} | ` +
        `${formatNumber(
          m((w) => (w.linkfwdCpu / SECONDS) * 100),
          0,
        )} % | ` +
        `${which === 'idle' ? '—' : us(m((w) => w.connections / SECONDS))} | ` +
        `${which === 'idle' ? '—' : us(m((w) => w.answered / SECONDS))} | ${cost} |`,
    );
  }
}

await main();
