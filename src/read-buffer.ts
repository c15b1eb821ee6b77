/*
 * How the legs read: Node reads into linkfwd's buffers (the socket option `onread`) and calls
 * onRead directly, which skips Node's 64 KiB allocation per read and the Readable machinery
 * (push, 'data', nextTicks), and hands each chunk to the other leg's `write()`.
 */
import type { OnReadOpts, Socket } from 'node:net';
import type { LegSocket } from './connection.js';

/**
 * The read buffer every socket starts with, one for all of them. A read callback runs to its
 * end before the kernel is read again for any socket, and it copies what it read before handing
 * it to write() (a write the kernel does not take at once stays queued and points at its
 * buffer), so the next read, on whatever socket, may overwrite it. No memory per connection.
 */
const sharedBuffer: Buffer = Buffer.allocUnsafeSlow(64 * 1024);

/**
 * A read that fills the shared buffer starts a bulk transfer: the socket reads on into buffers
 * of its own, written without a copy, each twice the last while reads fill them, up to this.
 * Bigger reads mean fewer calls into the kernel and into JavaScript per byte (a 1 MiB ceiling
 * moves a stream about 1.8× as fast as 64 KiB reads here), and a buffer is only as big as what
 * the kernel already held for the socket.
 */
const MAX_READ = 1024 * 1024;

/** Set by {@link onRead}, returned by {@link nextReadBuffer}, which Node calls right after it. */
let nextBuffer: Buffer = sharedBuffer;

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
function onRead(this: LegSocket, nread: number, buffer: Buffer): boolean {
  const { peer } = this;
  const { counters } = this.connection.relay;
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
  if (nread >= sharedBuffer.length) nextBuffer = bulkBuffer(buffer, nread, peer);
  return flowing;
}

/**
 * The next read buffer of a socket in a bulk transfer: twice as big after a full read, else the
 * same one again if the kernel took the whole write at once, else (the queued write keeps it) a
 * fresh one. A short read instead sends the socket back to the shared buffer, so a connection
 * between bursts holds none.
 */
function bulkBuffer(buffer: Buffer, nread: number, peer: Socket): Buffer {
  if (nread === buffer.length && buffer.length < MAX_READ) {
    return Buffer.allocUnsafeSlow(Math.min(2 * buffer.length, MAX_READ));
  }
  if (buffer !== sharedBuffer && peer.writableLength === 0) return buffer;
  return Buffer.allocUnsafeSlow(buffer.length);
}

/** Reading through 'data' events: clients accepted by Node's own net.Server. */
export function onData(this: LegSocket, chunk: Buffer): void {
  const { counters } = this.connection.relay;
  if (this.fromClient) counters.bytesIn += chunk.length;
  else counters.bytesOut += chunk.length;
  if (!this.peer.write(chunk)) this.pause();
}
