/**
 * pgbench through linkfwd's Unix-socket listener next to its TCP listener, same linkfwd
 * process, same PostgreSQL: `npm run bench:unix [-- --seconds N --rounds N]`. Prints a Markdown
 * table of medians over rounds (the order alternates per round).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { NPM_BIN as LINKFWD_BIN } from '../test/helpers/cli.js';
import { freePort } from '../test/helpers/sockets.js';
import { pgbench } from './external.js';
import { shutdown, start, stderrOf, waitForPort } from './processes.js';
import { median } from './stats.js';
import { findTools } from './tools.js';
import { startPostgres } from './upstreams.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '3' },
    },
  });
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  const tools = findTools();
  for (const tool of ['pgbench', 'initdb', 'postgres'] as const) {
    if (tools[tool] === undefined)
      throw new Error(`${tool} not found (apt-get install postgresql postgresql-contrib)`);
  }
  const cleanups: (() => unknown)[] = [];
  try {
    const pg = await startPostgres(tools, (c) => cleanups.push(c));
    const dir = mkdtempSync(join(tmpdir(), 'linkfwd-bench-unix-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort('127.0.0.1');
    const socket = join(dir, `.s.PGSQL.${port}`);
    const linkfwd = start('linkfwd', process.execPath, [
      LINKFWD_BIN,
      '--no-links',
      '--bind',
      '127.0.0.1',
      '-f',
      `${port}:${pg.host}:${pg.port}`,
      '-f',
      `unix:${socket}:${pg.host}:${pg.port}`,
    ]);
    cleanups.push(() => linkfwd.stop());
    await waitForPort('127.0.0.1', port, 15_000, linkfwd, stderrOf(linkfwd));
    await sleep(200);
    const listeners = { tcp: { host: '127.0.0.1', port }, unix: { host: dir, port } };
    const tps: Record<'tcp' | 'unix', number[]> = { tcp: [], unix: [] };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['tcp', 'unix'] as const) : (['unix', 'tcp'] as const);
      for (const kind of order) tps[kind].push(await pgbench(tools, listeners[kind], seconds));
    }
    const tcp = median(tps.tcp);
    const unix = median(tps.unix);
    console.log(
      `| pgbench -S -c 4 -j 2 -T ${seconds} through linkfwd, median of ${rounds} | TPS |`,
    );
    console.log('|---|---:|');
    console.log(`| TCP listener (127.0.0.1:${port}) | ${tcp.toFixed(0)} |`);
    console.log(`| Unix listener (${socket}) | ${unix.toFixed(0)} |`);
    console.log(`| Unix ÷ TCP | ${(unix / tcp).toFixed(3)} |`);
    console.log(
      `\nrounds: tcp ${tps.tcp.map((v) => v.toFixed(0)).join(', ')}; unix ${tps.unix.map((v) => v.toFixed(0)).join(', ')}`,
    );
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

try {
  await main();
} finally {
  await shutdown();
}
