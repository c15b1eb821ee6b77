/**
 * UDP through linkfwd next to socat and no forwarder: `npm run bench:udp [-- --seconds N
 * --rounds N]`. Prints a Markdown table of medians over rounds (modes rotated per round).
 *
 * - rate, 8 clients: 8 sockets, each in strict request/response (64 bytes), for the duration;
 *   a request unanswered after 200 ms counts as lost and is sent again.
 * - rate, new peer per request: 16 requests in flight, each from a fresh socket (what a
 *   resolver with random source ports does): a flow per request; socat forks per peer.
 * - paced: one socket sends N datagrams/s of S bytes for the duration; the echoes that come
 *   back, and the loss.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { NPM_BIN as LINKFWD_BIN } from '../test/helpers/cli.js';
import { which } from '../test/helpers/tools.js';
import { shutdown, start, stderrOf } from './processes.js';
import { median } from './stats.js';

const UPSTREAM = '127.0.0.2';
const LISTEN = '127.0.0.1';
type Mode = 'direct' | 'linkfwd' | 'socat';

async function udpPort(host: string): Promise<number> {
  const s = createSocket('udp4');
  s.bind(0, host);
  await once(s, 'listening');
  const { port } = s.address();
  s.close();
  return port;
}

async function client(): Promise<Socket> {
  const s = createSocket({ type: 'udp4', recvBufferSize: 8 << 20, sendBufferSize: 8 << 20 });
  s.bind(0, LISTEN);
  await once(s, 'listening');
  return s;
}

/** Strict request/response on `count` sockets, each on its own, for `ms`: replies per second. */
async function rateLongLived(host: string, port: number, ms: number, count = 8): Promise<number> {
  const sockets = await Promise.all(Array.from({ length: count }, client));
  const payload = Buffer.alloc(64, 1);
  let replies = 0;
  const deadline = Date.now() + ms;
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise<void>((resolve) => {
          // A lost request or reply: after 200 ms without one, the next request goes out.
          let timer: NodeJS.Timeout;
          const next = () => {
            clearTimeout(timer);
            if (Date.now() >= deadline) {
              s.close();
              resolve();
              return;
            }
            timer = setTimeout(next, 200);
            s.send(payload, port, host);
          };
          s.on('message', () => {
            replies += 1;
            next();
          });
          next();
        }),
    ),
  );
  return replies / (ms / 1000);
}

/** 16 requests in flight, each from a new socket: replies per second. */
async function rateNewPeers(
  host: string,
  port: number,
  ms: number,
  inFlight = 16,
): Promise<number> {
  const payload = Buffer.alloc(64, 2);
  let replies = 0;
  const deadline = Date.now() + ms;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (Date.now() < deadline) {
        const s = await client();
        const reply = once(s, 'message', { signal: AbortSignal.timeout(500) }).catch(() => null);
        s.send(payload, port, host);
        if ((await reply) !== null) replies += 1;
        s.close();
      }
    }),
  );
  return replies / (ms / 1000);
}

/** Sends `rate` datagrams/s of `size` bytes for `ms`; the share that never came back (%). */
async function paced(
  host: string,
  port: number,
  ms: number,
  rate: number,
  size: number,
): Promise<number> {
  const s = await client();
  let back = 0;
  s.on('message', () => {
    back += 1;
  });
  const payload = Buffer.alloc(size, 3);
  const perTick = Math.max(1, Math.round(rate / 1000));
  const started = Date.now();
  let sent = 0;
  while (Date.now() - started < ms) {
    const due = Math.min(perTick * (Date.now() - started + 1), (rate * ms) / 1000);
    while (sent < due) {
      s.send(payload, port, host);
      sent += 1;
    }
    await sleep(1);
  }
  await sleep(500); // the last echoes
  s.close();
  return (100 * (sent - back)) / sent;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '3' },
    },
  });
  const ms = Number(values.seconds) * 1000;
  const rounds = Number(values.rounds);
  const echo = start(
    'udp-echo',
    process.execPath,
    ['--import', 'tsx', 'bench/udp-echo.ts', UPSTREAM],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const [line] = (await once(echo.child.stdout!, 'data')) as [Buffer];
  const target = JSON.parse(line.toString()).port as number;

  const ports: Record<Mode, number> = { direct: target, linkfwd: 0, socat: 0 };
  ports.linkfwd = await udpPort(LISTEN);
  const spec = `${LISTEN}:${ports.linkfwd}:${UPSTREAM}:${target}/udp`;
  const linkfwd = start('linkfwd', process.execPath, [
    LINKFWD_BIN,
    '--no-links',
    '--bind',
    LISTEN,
    '-f',
    spec,
    '--max-connections',
    '30000',
  ]);
  const modes: Mode[] = ['direct', 'linkfwd'];
  const socat = which('socat');
  if (socat !== undefined) {
    ports.socat = await udpPort(LISTEN);
    start('socat', socat, [
      `UDP4-LISTEN:${ports.socat},fork,reuseaddr,bind=${LISTEN}`,
      `UDP4:${UPSTREAM}:${target}`,
    ]);
    modes.push('socat');
  }
  await sleep(1000); // both bind within a few ms; UDP has no handshake to wait for
  if (linkfwd.child.exitCode !== null) throw new Error(`linkfwd exited: ${stderrOf(linkfwd)()}`);

  const cases = {
    'request/response, 8 clients (req/s)': (h: string, p: number) => rateLongLived(h, p, ms),
    'request/response, new peer per request (req/s)': (h: string, p: number) =>
      rateNewPeers(h, p, ms),
    'paced 5,000 × 1200 B/s, loss %': (h: string, p: number) => paced(h, p, ms, 5000, 1200),
    'paced 20,000 × 1200 B/s, loss %': (h: string, p: number) => paced(h, p, ms, 20_000, 1200),
    'paced 5,000 × 8192 B/s, loss %': (h: string, p: number) => paced(h, p, ms, 5000, 8192),
  };
  const results: Record<string, Record<Mode, number[]>> = {};
  for (let round = 0; round < rounds; round++) {
    const order = [...modes.slice(round % modes.length), ...modes.slice(0, round % modes.length)];
    for (const [name, run] of Object.entries(cases)) {
      for (const mode of order) {
        results[name] ??= { direct: [], linkfwd: [], socat: [] };
        results[name][mode].push(await run(mode === 'direct' ? UPSTREAM : LISTEN, ports[mode]));
      }
    }
  }
  console.log(
    `| UDP, median of ${rounds} rounds × ${ms / 1000} s | ${modes.join(' | ')} | linkfwd ÷ socat |`,
  );
  console.log(`|---|${modes.map(() => '---:').join('|')}|---:|`);
  for (const [name, byMode] of Object.entries(results)) {
    const m = (mode: Mode) => median(byMode[mode]);
    const ratio =
      modes.includes('socat') && !name.includes('loss')
        ? (m('linkfwd') / m('socat')).toFixed(2)
        : '';
    const cells = modes.map((mode) =>
      name.includes('loss') ? m(mode).toFixed(2) : m(mode).toFixed(0),
    );
    console.log(`| ${name} | ${cells.join(' | ')} | ${ratio} |`);
  }
}

try {
  await main();
} finally {
  await shutdown();
}
