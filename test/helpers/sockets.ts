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

/** Polls `check` every 10 ms until it returns true; fails naming `what` after `timeout` ms. */
export async function waitFor(what: string, check: () => boolean, timeout = 5000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(10);
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
