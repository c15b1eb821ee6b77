/**
 * The UDP load: request/response on long-lived sockets, a new socket per request, and a paced
 * stream whose echoes are counted. Run by the load-generator process (`bench/client.ts`); the
 * readiness probe also by the bench itself. The upstream is `bench/udp-echo.ts`.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

/** Clients send from here: the address every forwarder listens on, and a loopback one. */
const CLIENT_HOST = '127.0.0.1';

/** A request unanswered this long counts as lost and the next one goes out. */
const RETRY_MS = 200;

async function client(): Promise<Socket> {
  const s = createSocket({ type: 'udp4', recvBufferSize: 8 << 20, sendBufferSize: 8 << 20 });
  s.bind(0, CLIENT_HOST);
  await once(s, 'listening');
  return s;
}

/** A UDP port that is free on `host` right now (bound, then closed). */
export async function freeUdpPort(host: string): Promise<number> {
  const s = createSocket('udp4');
  s.bind(0, host);
  await once(s, 'listening');
  const { port } = s.address();
  s.close();
  return port;
}

/** Whether one datagram sent to host:port is echoed within `timeoutMs`. */
export async function udpEchoes(host: string, port: number, timeoutMs = 200): Promise<boolean> {
  const s = await client();
  try {
    const reply = once(s, 'message', { signal: AbortSignal.timeout(timeoutMs) });
    s.send(Buffer.from('probe'), port, host);
    return await reply.then(
      () => true,
      () => false,
    );
  } finally {
    s.close();
  }
}

/**
 * `count` sockets, each in strict request/response (64 bytes) for `ms`: replies per second.
 * A lost request or reply costs {@link RETRY_MS}, then the next request goes out.
 */
export async function udpRate(
  host: string,
  port: number,
  ms: number,
  count: number,
): Promise<{ rate: number; retries: number }> {
  const sockets = await Promise.all(Array.from({ length: count }, client));
  const payload = Buffer.alloc(64, 1);
  let replies = 0;
  let retries = 0;
  const deadline = Date.now() + ms;
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise<void>((resolve) => {
          let timer: NodeJS.Timeout;
          const next = () => {
            clearTimeout(timer);
            if (Date.now() >= deadline) {
              s.close();
              resolve();
              return;
            }
            timer = setTimeout(() => {
              retries += 1;
              next();
            }, RETRY_MS);
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
  return { rate: replies / (ms / 1000), retries };
}

/**
 * At most this many new peers per run: each is a flow in linkfwd (a socket held for the idle
 * timeout, 60 s by default) and a child in socat (15 s, `-T 15`). Uncapped, linkfwd's 3 s at
 * 5,000–7,000 peers a second fills its open-file budget (RLIMIT_NOFILE 20000 here) with flows
 * of a finished case, and the cases after it measure the full budget, not the forwarder.
 */
const NEW_PEERS_MAX = 4000;

/**
 * `inFlight` requests at a time for `ms`, each from a fresh socket (a resolver with random
 * source ports): a new flow per request, {@link NEW_PEERS_MAX} at most. Replies per second,
 * and requests never answered.
 */
export async function udpNewPeers(
  host: string,
  port: number,
  ms: number,
  inFlight: number,
): Promise<{ rate: number; lost: number }> {
  const payload = Buffer.alloc(64, 2);
  let replies = 0;
  let lost = 0;
  let issued = 0;
  const started = Date.now();
  const deadline = started + ms;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (Date.now() < deadline && issued < NEW_PEERS_MAX) {
        issued += 1;
        const s = await client();
        const reply = once(s, 'message', { signal: AbortSignal.timeout(500) }).catch(() => null);
        s.send(payload, port, host);
        if ((await reply) !== null) replies += 1;
        else lost += 1;
        s.close();
      }
    }),
  );
  return { rate: replies / ((Date.now() - started) / 1000), lost };
}

/**
 * One socket sends `rate` datagrams/s of `size` bytes for `ms` (paced per millisecond); after
 * 500 ms for the last echoes, the share that never came back, in %.
 */
export async function udpPaced(
  host: string,
  port: number,
  ms: number,
  rate: number,
  size: number,
): Promise<{ lossPct: number; sent: number }> {
  const s = await client();
  let back = 0;
  s.on('message', () => {
    back += 1;
  });
  const payload = Buffer.alloc(size, 3);
  const perMs = rate / 1000;
  const total = Math.round((rate * ms) / 1000);
  const started = Date.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.ceil(perMs * (Date.now() - started + 1)));
    while (sent < due) {
      s.send(payload, port, host);
      sent += 1;
    }
    await sleep(1);
  }
  await sleep(500);
  s.close();
  return { lossPct: (100 * (sent - back)) / sent, sent };
}
