/**
 * Start-up: wall time of `linkfwd -f 127.0.0.1:P:host:port -- true` (bind, spawn the app, see it
 * exit, tear down) against `node -e 0`, with hyperfine when present, else a timing loop that
 * alternates the two commands.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NPM_BIN } from '../test/helpers/cli.js';
import { freePort } from '../test/helpers/sockets.js';
import { LISTEN_HOST } from './modes.js';
import { runCommand } from './processes.js';
import { median } from './stats.js';
import type { ToolPaths } from './tools.js';
import type { Endpoint } from './upstreams.js';

export interface StartupResult {
  nodeMs: number;
  linkfwdMs: number;
  runs: number;
  method: string;
}

function loop(commands: string[][], runs: number): number[] {
  const times: number[][] = commands.map(() => []);
  for (let i = 0; i < runs + 2; i++) {
    commands.forEach(([command, ...args], c) => {
      const started = performance.now();
      const result = spawnSync(command!, args, { stdio: 'ignore', timeout: 30_000 });
      const ms = performance.now() - started;
      if (result.status !== 0)
        throw new Error(`${command} ${args.join(' ')} exited ${result.status}`);
      // The first two of each are warm-up: page cache, V8 code cache.
      if (i >= 2) times[c]!.push(ms);
    });
  }
  return times.map(median);
}

export async function measureStartup(
  tools: ToolPaths,
  echo: Endpoint,
  runs: number,
): Promise<StartupResult> {
  const port = await freePort(LISTEN_HOST);
  const node = [process.execPath, '-e', '0'];
  const linkfwd = [
    process.execPath,
    NPM_BIN,
    '-f',
    `${LISTEN_HOST}:${port}:${echo.host}:${echo.port}`,
    '--',
    'true',
  ];
  if (tools.hyperfine === undefined) {
    const [nodeMs, linkfwdMs] = loop([node, linkfwd], runs);
    return {
      nodeMs: nodeMs!,
      linkfwdMs: linkfwdMs!,
      runs,
      method: 'timing loop (hyperfine missing), median',
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'linkfwd-bench-hyperfine-'));
  try {
    const json = join(dir, 'startup.json');
    const args = [
      '-N',
      '--warmup',
      '3',
      '--runs',
      String(runs),
      '--export-json',
      json,
      node.join(' '),
      linkfwd.join(' '),
    ];
    const result = await runCommand(tools.hyperfine, args, { timeoutMs: 300_000 });
    if (result.code !== 0)
      throw new Error(`hyperfine exited ${result.code}: ${result.stderr.trim().split('\n').pop()}`);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { results: { median: number }[] };
    const [nodeRun, linkfwdRun] = report.results;
    return {
      nodeMs: nodeRun!.median * 1000,
      linkfwdMs: linkfwdRun!.median * 1000,
      runs,
      method: `hyperfine -N --warmup 3 --runs ${runs}, median`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
