/**
 * The status endpoint must never affect forwarding: p50/p99 of 1-byte ping-pong through a
 * forward of the built CLI (`node dist/linkfwd.cjs --status … -f …`), first alone, then while a
 * second process keeps 1,000 `/readyz` probes in flight and holds 200 slowloris connections on
 * the endpoint. Prints figures; asserts nothing.
 *
 *   npm run build && node --import tsx bench/status-flood.ts [round trips, default 5000]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { NPM_BIN as LINKFWD_BIN } from '../test/helpers/cli.js';
import { dialError, freePort } from '../test/helpers/sockets.js';

const ROUND_TRIPS = Number(process.argv[2] ?? 5000);

/** The flood, in its own process: probes re-sent as each answers, and drip-fed headers. */
const FLOOD = `
  const { request } = require('node:http');
  const { connect } = require('node:net');
  const [port] = process.argv.slice(1).map(Number);
  let answered = 0, failed = 0;
  const probe = () => {
    const req = request({ host: '127.0.0.1', port, path: '/readyz', agent: false }, (res) => {
      res.resume(); res.on('end', () => { answered++; probe(); });
    });
    req.on('error', () => { failed++; setTimeout(probe, 10); });
    req.end();
  };
  for (let i = 0; i < 1000; i++) probe();
  const loris = () => {
    const s = connect({ host: '127.0.0.1', port }, () => s.write('GET /healthz HTTP/1.1\\r\\n'));
    const drip = setInterval(() => s.write('X-A: b\\r\\n'), 500);
    s.on('error', () => {}); s.on('close', () => { clearInterval(drip); setTimeout(loris, 10); });
  };
  for (let i = 0; i < 200; i++) loris();
  setInterval(() => process.stdout.write(answered + ' ' + failed + '\\n'), 1000);`;

async function pingPong(port: number, count: number): Promise<number[]> {
  const socket: Socket = connect({ host: '127.0.0.1', port, noDelay: true });
  await once(socket, 'connect');
  const times: number[] = [];
  const one = Buffer.from('x');
  for (let i = 0; i < count; i++) {
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

async function main(): Promise<void> {
  const echo = createServer({ noDelay: true }, (s) => s.pipe(s));
  echo.listen({ host: '127.0.0.2', port: 0 });
  await once(echo, 'listening');
  const echoPort = (echo.address() as { port: number }).port;
  const [listen, status] = [await freePort('127.0.0.1'), await freePort('127.0.0.1')];
  const children: ChildProcess[] = [];
  const linkfwd = spawn(
    process.execPath,
    [
      LINKFWD_BIN,
      '--status',
      `127.0.0.1:${status}`,
      '-f',
      `127.0.0.1:${listen}:127.0.0.2:${echoPort}`,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  children.push(linkfwd);
  try {
    // The endpoint listens first, the forward after it.
    while ((await dialError(listen)) !== undefined) await sleep(50);
    const report = (name: string, t: number[]) =>
      console.log(
        `${name.padEnd(26)} p50 ${percentile(t, 0.5).toFixed(0)} µs   p99 ${percentile(t, 0.99).toFixed(0)} µs   (${t.length} round trips)`,
      );
    report('ping-pong, endpoint idle', await pingPong(listen, ROUND_TRIPS));
    const flood = spawn(process.execPath, ['-e', FLOOD, String(status)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(flood);
    let last = '';
    flood.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      last = chunk.trim().split('\n').at(-1) ?? last;
    });
    await sleep(2000); // let the flood build up
    report('ping-pong, endpoint flooded', await pingPong(listen, ROUND_TRIPS));
    const [answered, failed] = last.split(' ');
    console.log(`flood: ${answered} probes answered, ${failed} refused or reset (so far)`);
    flood.kill();
    await sleep(3000); // the slowloris connections time out
    report('ping-pong, endpoint idle again', await pingPong(listen, ROUND_TRIPS));
  } finally {
    for (const child of children) child.kill();
    echo.close();
  }
}

await main();
