import type { Socket, TcpSocketConnectOpts } from 'node:net';
import { newUpstreamLeg } from './accept.js';
import { type ByteCounters, Leg, leaveBulk, onData } from './data-path.js';
import { BYTES_IN, BYTES_OUT } from './shared.js';

/**
 * What a connection needs from the forward it belongs to (connections.ts): its settings, its
 * counters, and where to report dials and the end.
 */
export interface ConnectionOwner {
  readonly dialOptions: TcpSocketConnectOpts;
  /** ms; 0: none. */
  readonly connectTimeout: number;
  /** ms; 0: none. */
  readonly idleTimeout: number;
  readonly counters: ByteCounters;
  /** `ms`: from the dial's start to its connect. */
  dialSucceeded(ms: number): void;
  dialFailed(error: unknown): void;
  /** Called once, when both legs have closed. */
  released(connection: Connection): void;
}

/** A leg of a connection: the data path's fields, and its connection as `owner`. */
type ConnectionLeg = Leg & { owner: Connection };

/**
 * One client and its upstream leg. The upstream is dialled at once (server-speaks-first
 * protocols must work) while the client stays paused, so bytes a client sends early wait in the
 * kernel, not in linkfwd, until the target answers.
 *
 * The per-chunk path (data-path.ts) is one callback, one counter, one `write()` and, under
 * backpressure, a stopped read until `drain`; nothing per connection beyond the two sockets.
 *
 * Endings: a FIN on one leg becomes `end()` on the other, and each socket closes by itself once
 * both of its directions have ended (`allowHalfOpen`, auto-destroy). An error or RST on one leg
 * resets the other, so an interrupted transfer never looks like a complete one.
 */
export class Connection {
  readonly client: ConnectionLeg;
  readonly upstream: ConnectionLeg;
  connected = false;
  private openLegs = 2;
  /** When the dial started (`performance.now()`), for the dial latency. */
  private readonly dialStarted = performance.now();
  /**
   * The connect timeout. A timer of our own rather than the upstream's `setTimeout()`, which
   * would keep its spent timer (and restart it on every read and write) for the connection's life.
   */
  private dialTimer: NodeJS.Timeout | undefined;

  /**
   * `client` is paused: a leg reading through `onread` (`viaOnread`), or a socket Node's
   * net.Server accepted with `pauseOnConnect`, read through 'data' events (accept.ts).
   */
  constructor(
    readonly owner: ConnectionOwner,
    client: Socket,
    viaOnread: boolean,
  ) {
    const upstream = newUpstreamLeg();
    this.client = bindLeg(client, this, upstream, true);
    this.upstream = bindLeg(upstream, this, this.client, false);
    // Attached before the dial: a socket that emits 'error' without a listener kills linkfwd.
    if (!viaOnread) client.on('data', onData);
    upstream.on('connect', onConnect);
    if (owner.connectTimeout > 0) {
      this.dialTimer = setTimeout(dialTimedOut, owner.connectTimeout, this);
    }
    // connect() resolves `host` itself for every call (dns.lookup, no cache), so a target name
    // that moves is followed on the next connection.
    try {
      upstream.connect(owner.dialOptions);
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
    this.owner.dialSucceeded(performance.now() - this.dialStarted);
    this.stopDialTimer();
    if (this.owner.idleTimeout > 0) {
      // One timer is enough: every byte either way is a read or a write on the client socket,
      // and Node restarts a socket's timer on both.
      this.client.setTimeout(this.owner.idleTimeout);
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
    this.owner.dialFailed(error);
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
    if (this.openLegs === 0) this.owner.released(this);
  }
}

function bindLeg(
  socket: Socket,
  connection: Connection,
  peer: Leg,
  fromClient: boolean,
): ConnectionLeg {
  const leg = socket as ConnectionLeg;
  leg.owner = connection;
  leg.peer = peer;
  leg.fromClient = fromClient;
  leg.countAt = fromClient ? BYTES_IN : BYTES_OUT;
  leg.counters = connection.owner.counters;
  if (!(socket instanceof Leg)) leg.bulkSize = 0; // a fallback client: no onread
  leg.on('error', onError);
  leg.on('close', onClose);
  leg.on('end', onEnd);
  leg.on('drain', onDrain);
  return leg;
}

function onDrain(this: ConnectionLeg): void {
  this.peer.resume();
}

function onEnd(this: ConnectionLeg): void {
  if (!this.peer.destroyed) this.peer.end();
}

function onConnect(this: ConnectionLeg): void {
  this.owner.upstreamConnected();
}

function onError(this: ConnectionLeg, error: Error): void {
  if (this.fromClient || this.owner.connected) reset(this.peer);
  else this.owner.dialFailed(error);
}

/** The client's idle timeout. */
function onIdle(this: ConnectionLeg): void {
  this.owner.idle();
}

function dialTimedOut(connection: Connection): void {
  connection.dialTimedOut();
}

function onClose(this: ConnectionLeg): void {
  if (this.bulkSize !== 0) leaveBulk(this);
  this.owner.legClosed();
}

/**
 * Aborts a socket with a RST. A socket still dialling has nothing to reset (and
 * `resetAndDestroy()` would wait for it to connect first), so it is just destroyed.
 */
export function reset(socket: Socket): void {
  if (socket.destroyed) return;
  // libuv refuses a reset while a shutdown (our `end()`) is still pending: Node then reports
  // EINVAL and never closes the handle, so the connection — and linkfwd's exit — would hang.
  // A Unix-socket client has no RST: Node refuses resetAndDestroy() on a pipe; closing it is the
  // nearest thing (the peer reads EOF, or EPIPE/ECONNRESET on its next write).
  if (socket.connecting || (socket.writableEnded && !socket.writableFinished) || !isTcp(socket)) {
    socket.destroy();
  } else socket.resetAndDestroy();
}

/** A TCP socket's handle can reset; a pipe's cannot. */
function isTcp(socket: Socket): boolean {
  const handle = (socket as unknown as { _handle?: { reset?: unknown } | null })._handle;
  return typeof handle?.reset === 'function';
}
