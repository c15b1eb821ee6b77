/**
 * The four ways a client reaches the upstreams: directly, or through linkfwd, socat (`fork`,
 * the classic links.sh) or haproxy (`mode tcp`), each listening on 127.0.0.1. Every mode is
 * started once and stays up for the whole run, so rounds can interleave modes.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NPM_BIN } from '../test/helpers/cli.js';
import { freePort } from '../test/helpers/sockets.js';
import { type Managed, recordPort, start, stderrOf, waitForPort } from './processes.js';
import type { ToolPaths } from './tools.js';
import type { Cleanup, Endpoint } from './upstreams.js';

export const MODES = ['direct', 'linkfwd', 'socat', 'haproxy'] as const;
export type ModeName = (typeof MODES)[number];
export type Targets = Record<string, Endpoint>;

export interface Mode {
  name: ModeName;
  /** Target name → where the client connects in this mode. */
  endpoints: Targets;
  /** The forwarder process (one of them, for socat), when there is one. */
  process?: Managed;
}

export const LISTEN_HOST = '127.0.0.1';

async function listenPorts(targets: Targets): Promise<Targets> {
  const out: Targets = {};
  for (const name of Object.keys(targets))
    out[name] = { host: LISTEN_HOST, port: await freePort(LISTEN_HOST) };
  return out;
}

async function ready(endpoints: Targets, m: Managed, stderr: () => string): Promise<void> {
  for (const e of Object.values(endpoints)) {
    await waitForPort(e.host, e.port, 15_000, m, stderr);
    recordPort(e.host, e.port);
  }
}

export interface LinkfwdOptions {
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  name?: string;
  /** How long it may take to exit on SIGTERM before it is killed. */
  graceMs?: number;
}

/** `node dist/linkfwd.cjs -f 127.0.0.1:P:host:port ... --bind 127.0.0.1`, forward-only. */
export async function startLinkfwd(
  targets: Targets,
  onStop: (c: Cleanup) => void,
  options: LinkfwdOptions = {},
): Promise<Mode> {
  if (!existsSync(NPM_BIN)) throw new Error(`${NPM_BIN} not built (npm run build)`);
  const endpoints = await listenPorts(targets);
  const specs = Object.entries(targets).flatMap(([name, t]) => [
    '-f',
    `${LISTEN_HOST}:${endpoints[name]!.port}:${t.host}:${t.port}`,
  ]);
  const args = [
    ...(options.nodeArgs ?? []),
    NPM_BIN,
    ...specs,
    '--bind',
    LISTEN_HOST,
    '--no-links',
    '--max-connections',
    '30000',
  ];
  const m = start(options.name ?? 'linkfwd', process.execPath, args, {
    graceMs: options.graceMs ?? 15_000,
  });
  onStop(() => m.stop());
  await ready(endpoints, m, stderrOf(m));
  return { name: 'linkfwd', endpoints, process: m };
}

export async function startSocat(
  tools: ToolPaths,
  targets: Targets,
  onStop: (c: Cleanup) => void,
): Promise<Mode> {
  const endpoints = await listenPorts(targets);
  let first: Managed | undefined;
  for (const [name, t] of Object.entries(targets)) {
    const listen = `TCP-LISTEN:${endpoints[name]!.port},fork,reuseaddr,bind=${LISTEN_HOST}`;
    const m = start(`socat-${name}`, tools.socat!, [listen, `TCP:${t.host}:${t.port}`]);
    onStop(() => m.stop());
    await ready({ [name]: endpoints[name]! }, m, stderrOf(m));
    first ??= m;
  }
  return { name: 'socat', endpoints, ...(first && { process: first }) };
}

/** haproxy with a generated `mode tcp` config: one `listen` section per target, defaults otherwise. */
export async function startHaproxy(
  tools: ToolPaths,
  targets: Targets,
  onStop: (c: Cleanup) => void,
): Promise<Mode> {
  const endpoints = await listenPorts(targets);
  const dir = mkdtempSync(join(tmpdir(), 'linkfwd-bench-haproxy-'));
  onStop(() => rmSync(dir, { recursive: true, force: true }));
  const config = [
    'defaults',
    '  mode tcp',
    '  timeout connect 10s',
    '  timeout client 1h',
    '  timeout server 1h',
    ...Object.entries(targets).flatMap(([name, t]) => [
      `listen ${name}`,
      `  bind ${LISTEN_HOST}:${endpoints[name]!.port}`,
      `  server upstream ${t.host}:${t.port}`,
    ]),
  ].join('\n');
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, `${config}\n`);
  const m = start('haproxy', tools.haproxy!, ['-db', '-f', file]);
  onStop(() => m.stop());
  await ready(endpoints, m, stderrOf(m));
  return { name: 'haproxy', endpoints, process: m };
}

export function directMode(targets: Targets): Mode {
  return { name: 'direct', endpoints: { ...targets } };
}
