import { connect, type Socket, type TcpNetConnectOpts } from 'node:net';
import { describeSystemError } from './errors.js';
import type { ForwarderOptions, ForwardStats } from './forwarder.js';
import { debugForward, type Logger, silentLogger } from './log.js';
import { describeOrigin, type PlannedForward } from './plan.js';
import { formatEndpoint } from './spec.js';

/** Initial delay of TCP keepalive probes on both legs. */
export const KEEPALIVE_DELAY = 60_000;
const DEFAULT_CONNECT_TIMEOUT = 10_000;
const DEFAULT_MAX_CONNECTIONS = 4096;

/**
 * The connection side of one forward: takes each accepted client (or resets it when
 * `maxConnections` are open), dials the target for it, and keeps the counters and the dial
 * warning policy. All state lives here, one instance per forwarder.
 */
export class Relay {
  readonly dialOptions: TcpNetConnectOpts;
  readonly idleTimeout: number;
  readonly counters = { accepted: 0, bytesIn: 0, bytesOut: 0, rejected: 0 };
  private readonly failedDials: Record<string, number> = {};
  private readonly maxConnections: number;
  private readonly logger: Logger;
  /** `-f 5432:db:5432`, `DB_PORT_5432_TCP`: how messages name the forward. */
  private readonly origin: string;
  private readonly connections = new Set<Connection>();
  /** Set by a dial failure, cleared by a success: only the first failure of a run warns. */
  private dialsFailing = false;
  private warnedFull = false;
  private warnedAccept = false;
  /** Resolves {@link abortAll} once the last connection is released. */
  private onDrained: (() => void) | undefined;

  constructor(
    private readonly forward: PlannedForward,
    options: ForwarderOptions,
  ) {
    this.idleTimeout = options.idleTimeout ?? 0;
    this.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.logger = options.logger ?? silentLogger;
    this.origin = describeOrigin(forward);
    this.dialOptions = {
      host: forward.target.host,
      port: forward.target.port,
      allowHalfOpen: true,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: KEEPALIVE_DELAY,
      timeout: options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT,
    };
    if (options.lookup !== undefined) this.dialOptions.lookup = options.lookup;
  }

  stats(): ForwardStats {
    return {
      ...this.counters,
      active: this.connections.size,
      failedDials: { ...this.failedDials },
    };
  }

  /** The listeners' `connection` handler; the socket arrives paused (`pauseOnConnect`). */
  readonly accept = (socket: Socket) => {
    if (this.connections.size >= this.maxConnections) {
      this.counters.rejected += 1;
      const limit = `${this.maxConnections} connections open`;
      this.report(!this.warnedFull, `${this.origin}: ${limit}, new clients are reset`);
      this.warnedFull = true;
      socket.on('error', ignore);
      socket.resetAndDestroy();
      return;
    }
    this.counters.accepted += 1;
    try {
      this.connections.add(new Connection(this, socket));
    } catch (error) {
      // net.connect throws synchronously only for options it rejects (a bad port from a
      // library caller): fail this client like any other dial, never crash the process.
      socket.on('error', ignore);
      socket.resetAndDestroy();
      this.dialFailed(error);
    }
  };

  /** Resets every connection; resolves once all their sockets have closed. */
  abortAll(): Promise<void> {
    for (const connection of this.connections) connection.abort();
    if (this.connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.onDrained = resolve;
    });
  }

  dialFailed(error: unknown): void {
    const code = (error as NodeJS.ErrnoException | undefined)?.code ?? 'UNKNOWN';
    this.failedDials[code] = (this.failedDials[code] ?? 0) + 1;
    const target = formatEndpoint(this.forward.target);
    const why = describeSystemError(error);
    this.report(!this.dialsFailing, `cannot reach ${target} for ${this.origin}: ${why}`);
    this.dialsFailing = true;
  }

  dialSucceeded(): void {
    this.dialsFailing = false;
  }

  /** The listeners' `error` handler: accept() failed (EMFILE, ENFILE); they stay open. */
  readonly acceptFailed = (error: Error) => {
    const why = describeSystemError(error);
    this.report(!this.warnedAccept, `${this.origin}: cannot accept a client: ${why}`);
    this.warnedAccept = true;
  };

  /** The first of its kind is a warning, repeats are debug lines. */
  private report(first: boolean, message: string) {
    if (first) this.logger.warn(message);
    else debugForward(message);
  }

  /** Called once per connection, when both of its sockets have closed. */
  released(connection: Connection): void {
    this.connections.delete(connection);
    if (this.connections.size === 0) this.onDrained?.();
  }
}

/**
 * One client and its upstream leg. The upstream is dialled at once (server-speaks-first
 * protocols must work) while the client stays paused (accepted with `pauseOnConnect`), so bytes
 * a client sends early wait in the kernel, not in linkfwd, until the target answers.
 *
 * Every handler is created once per connection; the per-chunk path is one `write()`, one
 * counter and, under backpressure, `pause()` until `drain`.
 *
 * Endings: a FIN on one leg becomes `end()` on the other, and each socket closes by itself once
 * both of its directions have ended (`allowHalfOpen`, auto-destroy). An error or RST on one leg
 * resets the other, so an interrupted transfer never looks like a complete one.
 */
export class Connection {
  private readonly upstream: Socket;
  private connected = false;
  private openLegs = 2;

  constructor(
    private readonly relay: Relay,
    private readonly client: Socket,
  ) {
    // Attached before the dial: a socket that emits 'error' without a listener kills linkfwd.
    client.on('error', this.onClientError);
    client.on('close', this.onLegClosed);
    // The client was accepted paused (readableFlowing === false): adding 'data' does not start
    // reading; resume() after the upstream connects does.
    client.on('data', this.onClientData);
    client.on('end', this.onClientEnd);
    client.on('drain', this.onClientDrain);

    // net.connect resolves `host` itself for every call (dns.lookup, no cache), so a target
    // name that moves is followed on the next connection.
    const upstream = connect(relay.dialOptions);
    this.upstream = upstream;
    upstream.on('error', this.onUpstreamError);
    upstream.on('close', this.onLegClosed);
    upstream.on('connect', this.onUpstreamConnect);
    upstream.on('timeout', this.onUpstreamTimeout);
    upstream.on('data', this.onUpstreamData);
    upstream.on('end', this.onUpstreamEnd);
    upstream.on('drain', this.onUpstreamDrain);
  }

  /** Resets both legs at once (forwarder close). */
  abort(): void {
    reset(this.client);
    reset(this.upstream);
  }

  private readonly onUpstreamConnect = () => {
    this.connected = true;
    this.relay.dialSucceeded();
    // The dial's timeout was the connect timeout; from now on only idleness counts.
    this.upstream.setTimeout(0);
    if (this.relay.idleTimeout > 0) {
      // One timer is enough: every byte either way is a read or a write on the client socket,
      // and Node restarts a socket's timer on both.
      this.client.setTimeout(this.relay.idleTimeout);
      this.client.on('timeout', this.onIdle);
    }
    this.client.resume();
  };

  /** Connect timeout: the upstream's socket timeout is only armed while dialling. */
  private readonly onUpstreamTimeout = () => {
    if (this.connected) return;
    const error = Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' });
    this.upstream.destroy();
    this.dialFailed(error);
  };

  private readonly onUpstreamError = (error: Error) => {
    if (this.connected) reset(this.client);
    else this.dialFailed(error);
  };

  private dialFailed(error: unknown) {
    this.relay.dialFailed(error);
    // RST, not FIN: the app must see ECONNRESET, as if it had dialled the target itself.
    reset(this.client);
  }

  private readonly onClientError = () => {
    reset(this.upstream);
  };

  private readonly onClientData = (chunk: Buffer) => {
    this.relay.counters.bytesIn += chunk.length;
    if (!this.upstream.write(chunk)) this.client.pause();
  };

  private readonly onUpstreamData = (chunk: Buffer) => {
    this.relay.counters.bytesOut += chunk.length;
    if (!this.client.write(chunk)) this.upstream.pause();
  };

  private readonly onUpstreamDrain = () => {
    this.client.resume();
  };

  private readonly onClientDrain = () => {
    this.upstream.resume();
  };

  private readonly onClientEnd = () => {
    if (!this.upstream.destroyed) this.upstream.end();
  };

  private readonly onUpstreamEnd = () => {
    if (!this.client.destroyed) this.client.end();
  };

  /**
   * Idle: with nothing queued a polite close (FIN both ways) loses nothing. Bytes still queued
   * mean a reader stopped reading mid-transfer: reset, so the cut cannot pass for a clean end.
   */
  private readonly onIdle = () => {
    if (this.client.writableLength > 0 || this.upstream.writableLength > 0) {
      this.abort();
      return;
    }
    this.client.destroy();
    this.upstream.destroy();
  };

  private readonly onLegClosed = () => {
    this.openLegs -= 1;
    if (this.openLegs === 0) this.relay.released(this);
  };
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

function ignore() {}
