/*
 * How the legs read: Node reads into linkfwd's buffers (the socket option `onread`) and calls
 * onRead directly, which skips Node's 64 KiB allocation per read and the Readable machinery
 * (push, 'data', nextTicks), and hands each chunk to the other leg's `write()`.
 */
import { type OnReadOpts, Socket } from 'node:net';
import { BULK_TOTAL, BYTES_OUT, processCells } from './shared.js';

/**
 * A thread's counter slot of one forward (shared.ts): reads from clients count at `BYTES_IN`,
 * reads from the target at `BYTES_OUT`.
 */
export type ByteCounters = Float64Array;

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
  /** Where its reads count in `counters`: BYTES_IN from a client, BYTES_OUT from the target. */
  countAt = BYTES_OUT;
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
/** The process cells (shared.ts): the bulk total is one for every forwarding thread. */
let cells!: Int32Array;

/** Set by {@link onRead}, returned by {@link nextReadBuffer}, which Node calls right after it. */
let nextBuffer!: Buffer;

/** Allocates the shared read buffer; called before the first socket reads, not at import. */
export function prepareDataPath(): void {
  if (sharedBuffer !== undefined) return;
  cells = processCells();
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
  counters[this.countAt]! += nread;
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
  const more = size - socket.bulkSize;
  // Taken first, given back if over: exact with other threads taking at the same time.
  if (more > 0 && Atomics.add(cells, BULK_TOTAL, more) + more > BULK_BUDGET) {
    Atomics.sub(cells, BULK_TOTAL, more);
    size = socket.bulkSize;
  } else if (more < 0) {
    Atomics.sub(cells, BULK_TOTAL, -more);
  }
  if (size === 0) return sharedBuffer;
  socket.bulkSize = size;
  if (size === buffer.length && buffer !== sharedBuffer && socket.peer.writableLength === 0) {
    return buffer;
  }
  return Buffer.allocUnsafeSlow(size);
}

/** The socket reads through the shared buffer again (a short read), or has closed. */
export function leaveBulk(socket: Leg): void {
  Atomics.sub(cells, BULK_TOTAL, socket.bulkSize);
  socket.bulkSize = 0;
}

/** What the bulk buffers of all sockets of every thread take together (tests). */
export function bulkBytes(): number {
  return Atomics.load(processCells(), BULK_TOTAL);
}

/** Reading through 'data' events: clients accepted by Node's own net.Server. */
export function onData(this: Leg, chunk: Buffer): void {
  this.counters[this.countAt]! += chunk.length;
  if (!this.peer.write(chunk)) this.pause();
}
