import { Socket, type SocketConstructorOpts } from 'node:net';
import { leaveBulk, onData, READ_INTO } from './read-buffer.js';
import type { Relay } from './relay.js';

/** Initial delay of TCP keepalive probes on both legs. */
export const KEEPALIVE_DELAY = 60_000;

/** What the shared socket handlers need: the connection, the other leg and the direction. */
interface LegState {
  connection: Connection;
  peer: LegSocket;
  /** Reads here count as bytesIn (client → target), else as bytesOut. */
  fromClient: boolean;
  /** The size of its bulk read buffer, 0 while it reads through the shared one (read-buffer.ts). */
  bulkSize: number;
}

export type LegSocket = Socket & LegState;

/**
 * Socket options as a null-prototype (dictionary-mode) object. Node's Socket constructor copies
 * its options (`{ ...options }`) and adds properties to the copy; copied from a plain object
 * literal that makes each socket cost ~7 µs to construct in Node 20, from a dictionary ~1.5 µs.
 */
function socketOptions(options: Record<string, unknown>): SocketConstructorOpts {
  return Object.assign(Object.create(null), options);
}

/** Options of every upstream socket (the dial itself takes `host`, `port`, `lookup`). */
const UPSTREAM_OPTIONS = socketOptions({
  allowHalfOpen: true,
  noDelay: true,
  keepAlive: true,
  keepAliveInitialDelay: KEEPALIVE_DELAY,
  onread: READ_INTO,
});

/**
 * A socket of linkfwd's own making, reading through `onread`. Its event handlers are functions
 * shared by every connection that find their state through `this`: no closures per connection.
 */
class Leg extends Socket implements LegState {
  connection!: Connection;
  peer!: LegSocket;
  fromClient = false;
  bulkSize = 0;
}

/**
 * A raw accepted TCP handle (`onconnection` of a listening handle) as a paused client socket
 * that reads through `onread`. Node's net.Server cannot give its sockets `onread`.
 */
export function clientFromHandle(handle: unknown): LegSocket {
  const options = { handle, allowHalfOpen: true, pauseOnCreate: true, onread: READ_INTO };
  const socket = new Leg(socketOptions(options));
  socket.setNoDelay(true);
  socket.setKeepAlive(true, KEEPALIVE_DELAY);
  return socket;
}

/**
 * One client and its upstream leg. The upstream is dialled at once (server-speaks-first
 * protocols must work) while the client stays paused, so bytes a client sends early wait in the
 * kernel, not in linkfwd, until the target answers.
 *
 * The per-chunk path (read-buffer.ts) is one callback, one counter, one `write()` and, under
 * backpressure, a stopped read until `drain`; nothing per connection beyond the two sockets.
 *
 * Endings: a FIN on one leg becomes `end()` on the other, and each socket closes by itself once
 * both of its directions have ended (`allowHalfOpen`, auto-destroy). An error or RST on one leg
 * resets the other, so an interrupted transfer never looks like a complete one.
 */
export class Connection {
  readonly client: LegSocket;
  readonly upstream: LegSocket;
  connected = false;
  private openLegs = 2;
  /**
   * The connect timeout. A timer of our own rather than the upstream's `setTimeout()`, which
   * would keep its spent timer (and restart it on every read and write) for the connection's life.
   */
  private dialTimer: NodeJS.Timeout | undefined;

  /**
   * `client` is paused: a socket from {@link clientFromHandle}, or one Node's net.Server accepted
   * with `pauseOnConnect` (read through 'data' events then).
   */
  constructor(
    readonly relay: Relay,
    client: Socket,
  ) {
    const upstream = new Leg(UPSTREAM_OPTIONS);
    this.client = bindLeg(client, this, upstream, true);
    this.upstream = bindLeg(upstream, this, this.client, false);
    // Attached before the dial: a socket that emits 'error' without a listener kills linkfwd.
    if (!(client instanceof Leg)) client.on('data', onData);
    upstream.on('connect', onConnect);
    if (relay.connectTimeout > 0) {
      this.dialTimer = setTimeout(dialTimedOut, relay.connectTimeout, this);
    }
    // connect() resolves `host` itself for every call (dns.lookup, no cache), so a target name
    // that moves is followed on the next connection.
    try {
      upstream.connect(relay.dialOptions);
    } catch (error) {
      // Thrown only for options it rejects (a bad port from a library caller), after it made
      // the socket a handle.
      upstream.destroy();
      throw error;
    }
  }

  /** Resets both legs at once (forwarder close). */
  abort(): void {
    reset(this.client);
    reset(this.upstream);
  }

  upstreamConnected(): void {
    this.connected = true;
    this.relay.dialSucceeded();
    this.stopDialTimer();
    if (this.relay.idleTimeout > 0) {
      // One timer is enough: every byte either way is a read or a write on the client socket,
      // and Node restarts a socket's timer on both.
      this.client.setTimeout(this.relay.idleTimeout);
      this.client.on('timeout', onIdle);
    }
    this.client.resume();
  }

  dialTimedOut(): void {
    this.dialTimer = undefined;
    if (this.connected) return;
    this.upstream.destroy();
    this.dialFailed(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' }));
  }

  private stopDialTimer(): void {
    if (this.dialTimer === undefined) return;
    clearTimeout(this.dialTimer);
    this.dialTimer = undefined;
  }

  dialFailed(error: unknown): void {
    this.relay.dialFailed(error);
    // RST, not FIN: the app must see ECONNRESET, as if it had dialled the target itself.
    reset(this.client);
  }

  /**
   * Idle: with nothing queued a polite close (FIN both ways) loses nothing. Bytes still queued
   * mean a reader stopped reading mid-transfer: reset, so the cut cannot pass for a clean end.
   */
  idle(): void {
    if (this.client.writableLength > 0 || this.upstream.writableLength > 0) {
      this.abort();
      return;
    }
    this.client.destroy();
    this.upstream.destroy();
  }

  /** A dial that ended any other way (refused, reset, aborted) ends with a leg closing. */
  legClosed(): void {
    this.stopDialTimer();
    this.openLegs -= 1;
    if (this.openLegs === 0) this.relay.released(this);
  }
}

function bindLeg(
  socket: Socket,
  connection: Connection,
  peer: LegSocket,
  fromClient: boolean,
): LegSocket {
  const leg = socket as LegSocket;
  leg.connection = connection;
  leg.peer = peer;
  leg.fromClient = fromClient;
  if (!(socket instanceof Leg)) leg.bulkSize = 0; // a client of Node's net.Server: no onread
  leg.on('error', onError);
  leg.on('close', onClose);
  leg.on('end', onEnd);
  leg.on('drain', onDrain);
  return leg;
}

function onDrain(this: LegSocket): void {
  this.peer.resume();
}

function onEnd(this: LegSocket): void {
  if (!this.peer.destroyed) this.peer.end();
}

function onConnect(this: LegSocket): void {
  this.connection.upstreamConnected();
}

function onError(this: LegSocket, error: Error): void {
  if (this.fromClient || this.connection.connected) reset(this.peer);
  else this.connection.dialFailed(error);
}

/** The client's idle timeout. */
function onIdle(this: LegSocket): void {
  this.connection.idle();
}

function dialTimedOut(connection: Connection): void {
  connection.dialTimedOut();
}

function onClose(this: LegSocket): void {
  if (this.bulkSize !== 0) leaveBulk(this);
  this.connection.legClosed();
}

/**
 * Aborts a socket with a RST. A socket still dialling has nothing to reset (and
 * `resetAndDestroy()` would wait for it to connect first), so it is just destroyed.
 */
export function reset(socket: Socket): void {
  if (socket.destroyed) return;
  // libuv refuses a reset while a shutdown (our `end()`) is still pending: Node then reports
  // EINVAL and never closes the handle, so the connection — and linkfwd's exit — would hang.
  if (socket.connecting || (socket.writableEnded && !socket.writableFinished)) socket.destroy();
  else socket.resetAndDestroy();
}
