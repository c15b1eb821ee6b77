/**
 * The ways a client reaches the upstreams: directly, or through linkfwd (twice: with its
 * default threads as a user runs it, and with another thread count), socat (`fork`, the classic
 * links.sh) or haproxy (`mode tcp`), each listening on 127.0.0.1. Every mode is started once and
 * stays up for the whole run, so rounds can interleave modes.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NPM_BIN } from '../test/helpers/cli.js';
import { tcpListeners } from '../test/helpers/proc.js';
import { freePort, waitFor } from '../test/helpers/sockets.js';
import { type Managed, start, stderrOf } from './processes.js';
import { endpointsReady } from './ready.js';
import type { ToolPaths } from './tools.js';
import { freeUdpPort } from './udp-client.js';
import { type Cleanup, type Endpoint, libpqSocket } from './upstreams.js';

export const MODES = ['direct', 'linkfwd', 'linkfwd-alt', 'socat', 'haproxy'] as const;
export type ModeName = (typeof MODES)[number];
export type Targets = Record<string, Endpoint>;

export interface Mode {
  name: ModeName;
  /** As the tables show it: `linkfwd (auto=1)`, `linkfwd --threads 2`. */
  label: string;
  /** Target name → where the client connects in this mode. */
  endpoints: Targets;
  /** Target name → why this mode has no endpoint for it (haproxy has no UDP). */
  notApplicable?: Record<string, string>;
  /** The forwarder process (one of them, for socat), when there is one. */
  process?: Managed;
  /** linkfwd: the forwarding threads it runs, counted by its listening sockets. */
  threads?: number;
}

export const LISTEN_HOST = '127.0.0.1';

/** Where each target is listened on: a free TCP or UDP port on 127.0.0.1. */
async function listenPorts(targets: Targets): Promise<Targets> {
  const out: Targets = {};
  for (const [name, t] of Object.entries(targets)) {
    const port = t.udp ? await freeUdpPort(LISTEN_HOST) : await freePort(LISTEN_HOST);
    out[name] = { host: LISTEN_HOST, port, ...(t.udp && { udp: true }) };
  }
  return out;
}

/** The targets a forwarder without Unix listeners (or without UDP) serves, and why not the rest. */
function split(targets: Targets, who: string, udp: boolean) {
  const served: Targets = {};
  const notApplicable: Record<string, string> = {};
  for (const [name, t] of Object.entries(targets)) {
    if (t.unixListener)
      notApplicable[name] = "the Unix-listener case compares linkfwd's own listeners";
    else if (t.udp && !udp) notApplicable[name] = `${who} has no UDP`;
    else served[name] = t;
  }
  return { served, notApplicable };
}

/**
 * Forwarding threads of a running linkfwd: each thread binds every TCP listener of its own
 * (`SO_REUSEPORT`), so the process has one listening socket per thread on each TCP port. Read
 * once linkfwd has said `forwarding …` for every forward: the workers bind after the main thread.
 */
async function forwardingThreads(m: Managed, stderr: () => string, forwards: number, port: number) {
  const said = () => stderr().match(/^linkfwd: forwarding /gm)?.length ?? 0;
  await waitFor(
    `${m.name} to report its ${forwards} forwards`,
    () => said() >= forwards,
    15_000,
    25,
  );
  const pid = m.child.pid;
  return tcpListeners().filter((l) => l.port === port && l.pids.includes(pid ?? -1)).length;
}

export interface LinkfwdOptions {
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  name?: string;
  /** `--threads N`; without it linkfwd runs its default (`auto`). */
  threads?: number;
  /** How long it may take to exit on SIGTERM before it is killed. */
  graceMs?: number;
}

/**
 * `node dist/linkfwd.cjs -f 127.0.0.1:P:host:port ... --bind 127.0.0.1`, forward-only; a UDP
 * target gets `P:host:port/udp`, a Unix-listener one `unix:<tempdir>/.s.PGSQL.P:host:port`.
 */
export async function startLinkfwd(
  targets: Targets,
  onStop: (c: Cleanup) => void,
  options: LinkfwdOptions = {},
): Promise<Mode> {
  if (!existsSync(NPM_BIN)) throw new Error(`${NPM_BIN} not built (npm run build)`);
  const endpoints = await listenPorts(targets);
  const specs: string[] = [];
  for (const [name, t] of Object.entries(targets)) {
    const at = endpoints[name]!;
    if (t.unixListener) {
      const dir = mkdtempSync(join(tmpdir(), 'linkfwd-bench-unix-'));
      onStop(() => rmSync(dir, { recursive: true, force: true }));
      // Where `pgbench -h DIR -p P` looks for the server.
      specs.push('-f', `unix:${libpqSocket(dir, at.port)}:${t.host}:${t.port}`);
      endpoints[name] = { host: dir, port: at.port, unixListener: true };
    } else {
      specs.push('-f', `${LISTEN_HOST}:${at.port}:${t.host}:${t.port}${t.udp ? '/udp' : ''}`);
    }
  }
  const threads = options.threads === undefined ? [] : ['--threads', String(options.threads)];
  const args = [
    ...(options.nodeArgs ?? []),
    NPM_BIN,
    ...specs,
    '--bind',
    LISTEN_HOST,
    '--no-links',
    '--max-connections',
    '30000',
    ...threads,
  ];
  const m = start(options.name ?? 'linkfwd', process.execPath, args, {
    graceMs: options.graceMs ?? 15_000,
  });
  onStop(() => m.stop());
  const stderr = stderrOf(m);
  await endpointsReady(endpoints, m, stderr);
  const tcp = Object.values(endpoints).find((e) => !e.udp && !e.unixListener);
  if (tcp === undefined) throw new Error('linkfwd: no TCP forward to count its threads on');
  const counted = await forwardingThreads(m, stderr, specs.length / 2, tcp.port);
  if (options.threads !== undefined && counted !== options.threads)
    throw new Error(`linkfwd --threads ${options.threads} runs ${counted} forwarding threads`);
  const label =
    options.threads === undefined ? `linkfwd (auto=${counted})` : `linkfwd --threads ${counted}`;
  return {
    name: options.threads === undefined ? 'linkfwd' : 'linkfwd-alt',
    label,
    endpoints,
    process: m,
    threads: counted,
  };
}

export async function startSocat(
  tools: ToolPaths,
  targets: Targets,
  onStop: (c: Cleanup) => void,
): Promise<Mode> {
  const { served, notApplicable } = split(targets, 'socat', true);
  const endpoints = await listenPorts(served);
  let first: Managed | undefined;
  for (const [name, t] of Object.entries(served)) {
    const { port } = endpoints[name]!;
    const [listen, dial] = t.udp
      ? [`UDP4-LISTEN:${port},fork,reuseaddr,bind=${LISTEN_HOST}`, `UDP4:${t.host}:${t.port}`]
      : [`TCP-LISTEN:${port},fork,reuseaddr,bind=${LISTEN_HOST}`, `TCP:${t.host}:${t.port}`];
    // UDP: `-T 15`, the inactivity timeout a UDP socat ambassador is usually run with; without
    // it the child forked for each peer of the new-peer-per-request case lives to the end of
    // the run (thousands of idle processes by the last round).
    const options = t.udp ? ['-T', '15'] : [];
    const m = start(`socat-${name}`, tools.socat!, [...options, listen, dial]);
    onStop(() => m.stop());
    await endpointsReady({ [name]: endpoints[name]! }, m, stderrOf(m));
    first ??= m;
  }
  return {
    name: 'socat',
    label: 'socat',
    endpoints,
    notApplicable,
    ...(first && { process: first }),
  };
}

/** haproxy with a generated `mode tcp` config: one `listen` section per target, defaults otherwise. */
export async function startHaproxy(
  tools: ToolPaths,
  targets: Targets,
  onStop: (c: Cleanup) => void,
): Promise<Mode> {
  const { served, notApplicable } = split(targets, 'haproxy', false);
  const endpoints = await listenPorts(served);
  const dir = mkdtempSync(join(tmpdir(), 'linkfwd-bench-haproxy-'));
  onStop(() => rmSync(dir, { recursive: true, force: true }));
  const config = [
    'defaults',
    '  mode tcp',
    '  timeout connect 10s',
    '  timeout client 1h',
    '  timeout server 1h',
    ...Object.entries(served).flatMap(([name, t]) => [
      `listen ${name}`,
      `  bind ${LISTEN_HOST}:${endpoints[name]!.port}`,
      `  server upstream ${t.host}:${t.port}`,
    ]),
  ].join('\n');
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, `${config}\n`);
  const m = start('haproxy', tools.haproxy!, ['-db', '-f', file]);
  onStop(() => m.stop());
  await endpointsReady(endpoints, m, stderrOf(m));
  return { name: 'haproxy', label: 'haproxy', endpoints, notApplicable, process: m };
}

/** The client dials the upstream itself; a Unix-listener target is the upstream's TCP port. */
export function directMode(targets: Targets): Mode {
  const endpoints: Targets = {};
  for (const [name, { host, port, udp }] of Object.entries(targets))
    endpoints[name] = { host, port, ...(udp && { udp }) };
  return { name: 'direct', label: 'direct', endpoints };
}
