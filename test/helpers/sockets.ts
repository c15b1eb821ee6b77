import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';

/** Where "remote" upstreams listen: a loopback address linkfwd's listeners never use. */
export const REMOTE = '127.0.0.2';

export interface Served {
  server: Server;
  port: number;
  /** Server-side sockets still open. */
  sockets: Set<Socket>;
  /** The next socket accepted (not yet read from: attach {@link observe} before resuming). */
  next(): Promise<Socket>;
}

/**
 * A TCP server on `host` port 0 (`allowHalfOpen`), closed after the test with every socket
 * it accepted. Server sockets get a no-op 'error' listener: tests observe errors themselves.
 */
export async function serve(
  t: TestContext,
  onSocket: (socket: Socket) => void = () => {},
  host = REMOTE,
  port = 0,
): Promise<Served> {
  const sockets = new Set<Socket>();
  const queue: Socket[] = [];
  const waiting: ((socket: Socket) => void)[] = [];
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onSocket(socket);
    const waiter = waiting.shift();
    if (waiter === undefined) queue.push(socket);
    else waiter(socket);
  });
  server.listen({ host, port });
  await once(server, 'listening');
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const next = () => {
    const socket = queue.shift();
    if (socket !== undefined) return Promise.resolve(socket);
    return new Promise<Socket>((resolve) => waiting.push(resolve));
  };
  return { server, port: (server.address() as { port: number }).port, sockets, next };
}

/** An echo server that honours half-close: it ends after echoing everything it read. */
export function echoServer(t: TestContext, host = REMOTE): Promise<Served> {
  return serve(t, (socket) => socket.pipe(socket), host);
}

/**
 * A client socket (not yet connected), destroyed after the test. It has a no-op 'error'
 * listener, like the servers' sockets: tests observe errors with {@link observe}.
 */
export function dial(
  t: TestContext,
  port: number,
  host = '127.0.0.1',
  allowHalfOpen = false,
): Socket {
  const socket = connect({ host, port, allowHalfOpen });
  socket.on('error', () => {});
  t.after(() => {
    socket.destroy();
  });
  return socket;
}

/** What one side of a connection saw, once the socket closed. */
export interface Outcome {
  bytes: number;
  sha256: string;
  /** The first 64 KiB received, as text. */
  head: string;
  /** A clean FIN was received. */
  ended: boolean;
  /** The error code the socket closed with (`ECONNRESET`), if any. */
  error: string | undefined;
}

/** Reads `socket` to its close, hashing what arrives. Attach before data can arrive. */
export function observe(socket: Socket): Promise<Outcome> {
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  const outcome: Outcome = { bytes: 0, sha256: '', head: '', ended: false, error: undefined };
  socket.on('data', (chunk: Buffer) => {
    if (outcome.bytes < 65536) head.push(chunk);
    outcome.bytes += chunk.length;
    hash.update(chunk);
  });
  socket.on('end', () => {
    outcome.ended = true;
  });
  socket.on('error', (error: NodeJS.ErrnoException) => {
    outcome.error ??= error.code ?? error.message;
  });
  socket.resume();
  return new Promise((resolve) => {
    socket.on('close', () => {
      outcome.sha256 = hash.digest('hex');
      outcome.head = Buffer.concat(head).toString('utf8', 0, 65536);
      resolve(outcome);
    });
  });
}

/** Clients dialled together, and what each saw once it closed. */
export interface Observed {
  clients: Socket[];
  ends: Promise<Outcome>[];
}

/**
 * Dials `count` clients of `host:port` at once, each observed from the start (so that a reset
 * that comes before anything is read is still seen).
 */
export function dialObserved(
  t: TestContext,
  port: number,
  count: number,
  host = '127.0.0.1',
  allowHalfOpen = false,
): Observed {
  const clients = Array.from({ length: count }, () => dial(t, port, host, allowHalfOpen));
  return { clients, ends: clients.map(observe) };
}

/**
 * Dials `host:port`, sends `text`, half-closes, and resolves with what came back and how long
 * that took, from the dial to the close.
 */
export async function roundTrip(
  t: TestContext,
  port: number,
  text: string,
  host = '127.0.0.1',
): Promise<Outcome & { ms: number }> {
  const started = Date.now();
  const client = dial(t, port, host);
  const seen = observe(client);
  client.end(text);
  const outcome = await seen;
  return { ...outcome, ms: Date.now() - started };
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Writes `total` bytes (`chunk` repeated, the last one cut) with backpressure. */
export async function sendRepeated(socket: Socket, chunk: Buffer, total: number): Promise<void> {
  for (let sent = 0; sent < total; sent += chunk.length) {
    const piece = total - sent < chunk.length ? chunk.subarray(0, total - sent) : chunk;
    if (!socket.write(piece)) await once(socket, 'drain');
  }
}

/** sha256 of `chunk` repeated up to `total` bytes (the last one cut), as `sendRepeated` sends. */
export function hashRepeated(chunk: Buffer, total: number): string {
  const hash = createHash('sha256');
  for (let sent = 0; sent < total; sent += chunk.length) {
    hash.update(total - sent < chunk.length ? chunk.subarray(0, total - sent) : chunk);
  }
  return hash.digest('hex');
}

/**
 * Polls `check` every `interval` ms until it returns (or resolves to) true; fails naming `what`
 * after `timeout` ms. A check that throws ends the wait with its error.
 */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeout = 5000,
  interval = 10,
): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(interval);
  }
}

/** A port that is free right now (bound, then closed) on `host`. */
export async function freePort(host = REMOTE): Promise<number> {
  const server = createServer().listen({ host, port: 0 });
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A port that is free on every one of `hosts`: `preferred` when it is (the well-known port, as
 * in a container), else one the kernel picks for the first host that the others have free too.
 * A host without IPv6 (`::1` unavailable) counts as free there.
 */
export async function sharedFreePort(hosts: readonly string[], preferred: number): Promise<number> {
  const candidates = [preferred];
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = candidates.shift() ?? (await freePort(hosts[0]));
    if (await everyFree(hosts, port)) return port;
  }
  throw new Error(`no port free on all of ${hosts.join(', ')}`);
}

async function everyFree(hosts: readonly string[], port: number): Promise<boolean> {
  for (const host of hosts) {
    const code = await bindError(host, port);
    if (code !== undefined && code !== 'EADDRNOTAVAIL' && code !== 'EAFNOSUPPORT') return false;
  }
  return true;
}

/** Why `host:port` cannot be bound right now (`EADDRINUSE`), or undefined when it can (then released). */
export async function bindError(host: string, port: number): Promise<string | undefined> {
  const server = createServer();
  try {
    server.listen({ host, port, exclusive: true });
    await once(server, 'listening');
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code;
  } finally {
    if (server.listening) await new Promise((resolve) => server.close(resolve));
  }
}

/**
 * Why a dial to `host:port` fails (`ECONNREFUSED`; `ETIMEDOUT` after `timeout` ms), or
 * undefined when it connects (then closed at once): a probe, no test traffic.
 */
export function dialError(
  port: number,
  host = '127.0.0.1',
  timeout = 1000,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (code: string | undefined) => {
      socket.destroy();
      resolve(code);
    };
    socket.setTimeout(timeout, () => done('ETIMEDOUT'));
    socket.once('connect', () => done(undefined));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
}

/**
 * A port on {@link REMOTE} that never answers a SYN. A worker thread listens with `backlog: 1`
 * and then blocks in `Atomics.wait`, so nothing ever calls accept(); once the two fillers
 * opened here sit in the full accept queue, the kernel drops further SYNs and a dial hangs
 * until its own timeout. Released after the test.
 */
export async function unansweredPort(t: TestContext): Promise<number> {
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { createServer } = require('node:net');
     const { parentPort, workerData } = require('node:worker_threads');
     const server = createServer().listen({ host: '${REMOTE}', port: 0, backlog: 1 }, () => {
       parentPort.postMessage(server.address().port);
       Atomics.wait(workerData, 0, 0); // the message is delivered while this thread is blocked
       server.close();
     });`,
    { eval: true, workerData: gate },
  );
  t.after(async () => {
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    await worker.terminate();
  });
  const [port] = (await once(worker, 'message')) as [number];
  for (let i = 0; i < 2; i++) {
    const filler = dial(t, port, REMOTE);
    await once(filler, 'connect');
  }
  return port;
}

/**
 * Whether this kernel reports a RST that arrives behind unread data as an error. Linux does
 * (ECONNRESET); gVisor's netstack reports a clean end instead, so there a reset cannot be told
 * from a FIN by a reader that was not reading.
 */
export async function resetBehindDataIsReported(t: TestContext): Promise<boolean> {
  const server = await serve(t);
  const client = dial(t, server.port, REMOTE);
  client.pause(); // paused before it connects, it does not read at all
  await once(client, 'connect');
  const peer = await server.next();
  await new Promise((resolve) => peer.write('unread', resolve));
  peer.resetAndDestroy();
  await once(peer, 'close');
  await sleep(50); // for the RST to arrive: it cannot be seen without reading
  return (await observe(client)).error !== undefined;
}
