/**
 * `npm run bench [-- --quick | --smoke | --cpu-prof]`: set up the tools, start the upstreams
 * and every mode (linkfwd twice: default threads, and another count), measure the cases
 * interleaved across modes for several rounds, then linkfwd's start-up and memory; write
 * `bench/results/<timestamp>.md` and `latest.md`, print the summary.
 * Everything started is stopped on the way out, on failure and on SIGINT/SIGTERM.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { constants, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { raiseOwnLimits } from '../test/helpers/proc.js';
import { selectCases } from './cases.js';
import { ClientWorker } from './client-worker.js';
import { measureMemory } from './memory.js';
import {
  directMode,
  type Mode,
  type ModeName,
  startHaproxy,
  startLinkfwd,
  startSocat,
  type Targets,
} from './modes.js';
import { type Options, parseOptions, USAGE } from './options.js';
import { setManifest, shutdown } from './processes.js';
import { runCpuProfiles } from './profile.js';
import { publishReport, type RunData, renderReport, summary } from './report.js';
import { measureRounds, message } from './rounds.js';
import { measureStartup } from './startup.js';
import { describeMachine, findTools, installMissing, type ToolPaths } from './tools.js';
import {
  type Cleanup,
  startIperf,
  startNodeUpstream,
  startPostgres,
  startRedis,
  startUdpEcho,
} from './upstreams.js';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const BENCHMARKS = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
const T0 = performance.now();

function log(line: string): void {
  const seconds = ((performance.now() - T0) / 1000).toFixed(0).padStart(3);
  process.stderr.write(`bench [${seconds} s] ${line}\n`);
}

type OnStop = (c: Cleanup) => void;

/** Children inherit the limit; 10,000 connections through a forwarder need 20,000+ descriptors. */
function raiseOpenFileLimit(): void {
  try {
    raiseOwnLimits({ nofile: 65_536 });
  } catch {
    // No prlimit: the limit stays; the memory case reports the cap it used.
  }
}

async function startUpstreams(o: Options, tools: ToolPaths, onStop: OnStop, data: RunData) {
  // --cpu-prof needs only the echo server and PostgreSQL.
  const wants = (c: string) => !o.cpuProf && o.profile.cases.includes(c);
  const targets: Targets = await startNodeUpstream(onStop);
  const optional: [string, boolean, (keyof ToolPaths)[], () => Promise<Targets[string]>][] = [
    ['iperf', wants('iperf'), ['iperf3'], () => startIperf(tools, onStop)],
    ['udp', wants('udp'), [], () => startUdpEcho(onStop)],
    [
      'postgres',
      wants('pgbench') || wants('unix') || o.cpuProf,
      ['initdb', 'postgres', 'pgbench'],
      () => startPostgres(tools, onStop),
    ],
    ['redis', wants('redis'), ['redis-server', 'redis-benchmark'], () => startRedis(tools, onStop)],
  ];
  for (const [name, wanted, needs, starter] of optional) {
    if (!wanted) continue;
    const missing = needs.filter((t) => tools[t] === undefined);
    if (missing.length > 0) {
      data.skipped.push({ what: name, reason: `${missing.join(', ')} not installed` });
      continue;
    }
    try {
      log(`starting ${name}`);
      targets[name] = await starter();
    } catch (error) {
      data.skipped.push({ what: name, reason: message(error) });
      log(`${name} unavailable: ${message(error)}`);
    }
  }
  // The Unix-listener case: PostgreSQL again, listened on through a Unix socket where a mode can.
  if (wants('unix') && targets.postgres !== undefined)
    targets.pgunix = { ...targets.postgres, unixListener: true };
  return targets;
}

/**
 * linkfwd as a user runs it (no `--threads`: auto), then with another thread count: 1 where
 * auto gives more, else 2, so the two columns always differ.
 */
async function startLinkfwdModes(targets: Targets, onStop: OnStop, data: RunData) {
  const modes: Mode[] = [];
  const failed = (name: ModeName, error: unknown) => {
    data.unavailable[name] = message(error);
    log(`${name} unavailable: ${message(error)}`);
  };
  let auto: number | undefined;
  try {
    const mode = await startLinkfwd(targets, onStop);
    auto = mode.threads;
    modes.push(mode);
  } catch (error) {
    failed('linkfwd', error);
  }
  const threads = auto === undefined ? 2 : auto > 1 ? 1 : 2;
  data.labels['linkfwd-alt'] = `linkfwd --threads ${threads}`;
  try {
    modes.push(await startLinkfwd(targets, onStop, { threads, name: 'linkfwd-alt' }));
  } catch (error) {
    failed('linkfwd-alt', error);
  }
  return modes;
}

async function startModes(tools: ToolPaths, targets: Targets, onStop: OnStop, data: RunData) {
  const modes: Mode[] = [directMode(targets), ...(await startLinkfwdModes(targets, onStop, data))];
  const starters: [ModeName, (() => Promise<Mode>) | string][] = [
    ['socat', tools.socat ? () => startSocat(tools, targets, onStop) : 'socat not installed'],
    [
      'haproxy',
      tools.haproxy ? () => startHaproxy(tools, targets, onStop) : 'haproxy not installed',
    ],
  ];
  for (const [name, starter] of starters) {
    try {
      if (typeof starter === 'string') throw new Error(starter);
      modes.push(await starter());
    } catch (error) {
      data.unavailable[name] = message(error);
      log(`${name} unavailable: ${message(error)}`);
    }
  }
  for (const mode of modes) data.labels[mode.name] = mode.label;
  return modes;
}

/** Start-up and memory use their own linkfwd processes; they run after the rounds. */
async function measureLinkfwdAlone(
  o: Options,
  tools: ToolPaths,
  targets: Targets,
  client: ClientWorker,
  onStop: OnStop,
  data: RunData,
): Promise<void> {
  const { profile: p } = o;
  for (const what of ['startup', 'memory'] as const) {
    if (!p.cases.includes(what)) continue;
    if (data.unavailable.linkfwd !== undefined) {
      data.skipped.push({ what, reason: `linkfwd: ${data.unavailable.linkfwd}` });
      continue;
    }
    log(what);
    const failed = (error: unknown) => ({ error: message(error) });
    if (what === 'startup') {
      data.startup = await measureStartup(tools, targets.echo!, p.startupRuns).catch(failed);
    } else {
      try {
        data.memory = await measureMemory(targets.echo!, client, p.holdConnections, onStop);
        data.notes.push(...data.memory.notes);
      } catch (error) {
        data.memory = failed(error);
      }
    }
  }
}

async function bench(o: Options, onStop: OnStop): Promise<number> {
  const p = o.profile;
  let tools = findTools();
  const data: RunData = {
    profile: p,
    machine: describeMachine(tools),
    started: new Date(),
    seconds: 0,
    load: { start: loadavg(), end: [] },
    labels: {},
    unavailable: {},
    cases: [],
    values: {},
    errors: {},
    notApplicable: {},
    skipped: [],
    notes: [],
  };
  if (o.install) {
    const installed = await installMissing(tools, log);
    tools = installed.tools;
    data.notes.push(...installed.notes);
    data.machine = describeMachine(tools);
  }
  raiseOpenFileLimit();
  const targets = await startUpstreams(o, tools, onStop, data);
  const client = new ClientWorker();
  onStop(() => client.stop());
  const stamp = data.started
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z');

  if (o.cpuProf) {
    const dir = join(o.out, 'profiles', stamp);
    const which = { echo: targets.echo!, ...(targets.postgres && { postgres: targets.postgres }) };
    const seconds = Math.max(5, p.toolSeconds);
    const markdown = await runCpuProfiles(dir, which, tools, client, seconds, onStop);
    writeFileSync(
      join(dir, 'summary.md'),
      `# linkfwd CPU profiles — ${data.started.toISOString()}\n\n${markdown}`,
    );
    process.stdout.write(`${markdown}\nwritten to ${join(dir, 'summary.md')}\n`);
    return 0;
  }

  log('starting modes');
  const modes = await startModes(tools, targets, onStop, data);
  for (const c of selectCases(p)) {
    if (targets[c.target] !== undefined) data.cases.push(c);
    else if (!data.skipped.some((s) => s.what === c.target)) {
      data.skipped.push({ what: c.id, reason: `no ${c.target} upstream` });
    }
  }
  await measureRounds(data.cases, modes, { client, tools, profile: p }, data, log);
  await measureLinkfwdAlone(o, tools, targets, client, onStop, data);

  data.seconds = (performance.now() - T0) / 1000;
  data.load.end = loadavg();
  mkdirSync(o.out, { recursive: true });
  const markdown = renderReport(data);
  const file = join(o.out, `${stamp}.md`);
  writeFileSync(file, markdown);
  writeFileSync(join(o.out, 'latest.md'), markdown);
  if (o.publish) publishReport(markdown, BENCHMARKS);
  const shown = relative(process.cwd(), file).startsWith('..')
    ? file
    : relative(process.cwd(), file);
  process.stdout.write(`${summary(data)}\n\nfull report: ${shown}\n`);
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(argv, RESULTS);
  } catch (error) {
    process.stderr.write(`bench: ${message(error)}\n${USAGE}\n`);
    return 2;
  }
  setManifest(options.manifest);
  const cleanups: Cleanup[] = [];
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      // Processes first, all at once (from here on no new one starts, whatever a measurement
      // still in flight tries), then the rest: temp dirs, the client's IPC channel.
      await shutdown();
      for (let c = cleanups.pop(); c !== undefined; c = cleanups.pop()) {
        await Promise.resolve()
          .then(c)
          .catch((error) => log(`cleanup: ${message(error)}`));
      }
    })();
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping everything`);
    void stop().finally(() => process.exit(128 + constants.signals[signal]));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await bench(options, (c) => cleanups.push(c));
  } catch (error) {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  } finally {
    await stop();
  }
}

process.exitCode = await main(process.argv.slice(2));
