/*
 * How the legs read: Node reads into linkfwd's buffers (the socket option `onread`) and calls
 * onRead directly, which skips Node's 64 KiB allocation per read and the Readable machinery
 * (push, 'data', nextTicks), and hands each chunk to the other leg's `write()`.
 */
import { type OnReadOpts, Socket } from 'node:net';

/** Bytes moved by one forward, counted as they are read. */
export interface ByteCounters {
  /** Read from clients (client → target). */
  bytesIn: number;
  /** Read from the target (target → client). */
  bytesOut: number;
}

/**
 * One side of a connection, as the data path sees it. Its event handlers are functions shared
 * by every connection that find their state through `this`: no closures per connection. Fast-
 * path clients and every upstream are made as `Leg`s (accept.ts); a client accepted by Node's
 * own net.Server (the fallback) is a plain Socket given the same fields.
 */
export class Leg extends Socket {
  peer!: Leg;
  /** Reads here count as bytesIn, else as bytesOut. */
  fromClient = false;
  /** The size of its bulk read buffer; 0 while it reads through the shared one. */
  bulkSize = 0;
  counters!: ByteCounters;
  /** The connection it belongs to (connection.ts). */
  owner: unknown = undefined;
}

/**
 * The read buffer every socket starts with, one for all of them. A read callback runs to its
 * end before the kernel is read again for any socket, and it copies what it read before handing
 * it to write() (a write the kernel does not take at once stays queued and points at its
 * buffer), so the next read, on whatever socket, may overwrite it. No memory per connection.
 */
let sharedBuffer!: Buffer;
const SHARED_SIZE = 64 * 1024;

/**
 * A read that fills the shared buffer starts a bulk transfer: the socket reads on into buffers
 * of its own, written without a copy, each twice the last while reads fill them, up to this.
 * Bigger reads mean fewer calls into the kernel and into JavaScript per byte (a 1 MiB ceiling
 * moves a stream about 1.8× as fast as 64 KiB reads here), and a buffer is only as big as what
 * the kernel already held for the socket.
 */
const MAX_READ = 1024 * 1024;

/**
 * The bulk buffers of all sockets together, at most; past it, a socket reads through the shared
 * buffer again. A stalled socket keeps its next buffer and its queued write, so this bounds
 * linkfwd's memory under load to about twice as much plus one 64 KiB chunk per stalled socket:
 * 1,000 busy connections must not each hold megabytes. A few streams still read 1 MiB at a time.
 */
export const BULK_BUDGET = 32 * 1024 * 1024;
let bulkTotal = 0;

/** Set by {@link onRead}, returned by {@link nextReadBuffer}, which Node calls right after it. */
let nextBuffer!: Buffer;

/** Allocates the shared read buffer; called before the first socket reads, not at import. */
export function prepareDataPath(): void {
  if (sharedBuffer !== undefined) return;
  sharedBuffer = Buffer.allocUnsafeSlow(SHARED_SIZE);
  nextBuffer = sharedBuffer;
}

/**
 * The `onread` option of every leg linkfwd makes. Node calls `buffer` after every read (and once
 * when the socket gets its handle).
 */
export const READ_INTO: OnReadOpts = { buffer: nextReadBuffer, callback: onRead };

function nextReadBuffer(): Buffer {
  const buffer = nextBuffer;
  nextBuffer = sharedBuffer;
  return buffer;
}

/**
 * A chunk read into `buffer`. Returning false stops reading (as `pause()` would) until the peer
 * drains and the connection resumes this socket.
 */
function onRead(this: Leg, nread: number, buffer: Buffer): boolean {
  const { peer, counters } = this;
  if (this.fromClient) counters.bytesIn += nread;
  else counters.bytesOut += nread;
  let chunk: Buffer;
  if (buffer === sharedBuffer) {
    // Small reads (the common case: requests, replies) come from Buffer's pool.
    chunk = Buffer.allocUnsafe(nread);
    sharedBuffer.copy(chunk, 0, 0, nread);
  } else {
    chunk = nread === buffer.length ? buffer : buffer.subarray(0, nread);
  }
  const flowing = peer.write(chunk);
  if (nread >= SHARED_SIZE) nextBuffer = bulkBuffer(this, buffer, nread);
  else if (this.bulkSize !== 0) leaveBulk(this);
  return flowing;
}

/**
 * The next read buffer of a socket in a bulk transfer: twice as big after a full read while the
 * {@link BULK_BUDGET} allows, else as big as before; the same one again if the kernel took the
 * whole write at once, else (the queued write keeps it) a fresh one. A short read instead sends
 * the socket back to the shared buffer, so a connection between bursts holds none.
 */
function bulkBuffer(socket: Leg, buffer: Buffer, nread: number): Buffer {
  let size = buffer.length;
  if (nread === buffer.length && size < MAX_READ) size = Math.min(2 * size, MAX_READ);
  if (bulkTotal - socket.bulkSize + size > BULK_BUDGET) size = socket.bulkSize;
  if (size === 0) return sharedBuffer;
  bulkTotal += size - socket.bulkSize;
  socket.bulkSize = size;
  if (size === buffer.length && buffer !== sharedBuffer && socket.peer.writableLength === 0) {
    return buffer;
  }
  return Buffer.allocUnsafeSlow(size);
}

/** The socket reads through the shared buffer again (a short read), or has closed. */
export function leaveBulk(socket: Leg): void {
  bulkTotal -= socket.bulkSize;
  socket.bulkSize = 0;
}

/** What the bulk buffers of all sockets take together (tests). */
export function bulkBytes(): number {
  return bulkTotal;
}

/** Reading through 'data' events: clients accepted by Node's own net.Server. */
export function onData(this: Leg, chunk: Buffer): void {
  const { counters } = this;
  if (this.fromClient) counters.bytesIn += chunk.length;
  else counters.bytesOut += chunk.length;
  if (!this.peer.write(chunk)) this.pause();
}
