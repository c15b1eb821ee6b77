import type { Socket, TcpSocketConnectOpts } from 'node:net';
import { describeSystemError } from '../errors.js';
import { debugForward, type Logger, silentLogger } from '../log.js';
import { DEFAULTS } from '../options/index.js';
import { describeOrigin, formatEndpoint, type PlannedForward } from '../plan/index.js';
import { Connection, type ConnectionOwner, reset } from './connection.js';
import { type FdBudget, processFdBudget } from './fd-budget.js';
import type { ForwarderOptions, ForwardStats } from './settings.js';

/**
 * The connections of one forward: admits each accepted client (or resets it when
 * `maxConnections` are open or the open-file limit is near), starts its {@link Connection}, and
 * keeps the counters and the warning policy. One instance per forwarder.
 */
export class ForwardConnections implements ConnectionOwner {
  readonly dialOptions: TcpSocketConnectOpts;
  readonly connectTimeout: number;
  readonly idleTimeout: number;
  readonly counters = { accepted: 0, bytesIn: 0, bytesOut: 0, rejected: 0 };
  private readonly failedDials: Record<string, number> = {};
  private readonly maxConnections: number;
  private readonly fds: FdBudget = processFdBudget();
  private readonly logger: Logger;
  /** `-f 5432:db:5432`, `DB_PORT_5432_TCP`: how messages name the forward. */
  private readonly origin: string;
  private readonly onDialed: ForwarderOptions['onDialed'];
  private readonly connections = new Set<Connection>();
  /** Set by a dial failure, cleared by a success: only the first failure of a run warns. */
  private dialsFailing = false;
  private warnedFull = false;
  private warnedFds = false;
  private warnedAccept = false;
  /** Resolves {@link abortAll} once the last connection is released. */
  private onDrained: (() => void) | undefined;

  constructor(
    private readonly forward: PlannedForward,
    options: ForwarderOptions,
  ) {
    this.connectTimeout = options.connectTimeout ?? DEFAULTS.connectTimeout;
    this.idleTimeout = options.idleTimeout ?? DEFAULTS.idleTimeout;
    this.maxConnections = options.maxConnections ?? DEFAULTS.maxConnections;
    this.logger = options.logger ?? silentLogger;
    this.origin = describeOrigin(forward);
    this.onDialed = options.onDialed;
    this.dialOptions = { host: forward.target.host, port: forward.target.port };
    if (options.lookup !== undefined) this.dialOptions.lookup = options.lookup;
  }

  stats(): ForwardStats {
    return {
      ...this.counters,
      active: this.connections.size,
      failedDials: { ...this.failedDials },
    };
  }

  /** A listener's client, paused (accept.ts): admitted, or reset when over a limit. */
  readonly accept = (socket: Socket, viaOnread: boolean) => {
    if (this.connections.size >= this.maxConnections || this.fds.full) this.reject(socket);
    else this.admit(socket, viaOnread);
  };

  private admit(socket: Socket, viaOnread: boolean): void {
    this.counters.accepted += 1;
    try {
      this.connections.add(new Connection(this, socket, viaOnread));
      this.fds.take();
    } catch (error) {
      // net.connect throws synchronously only for options it rejects (a bad port from a
      // library caller): fail this client like any other dial, never crash the process.
      socket.on('error', ignore);
      reset(socket);
      this.dialFailed(error);
    }
  }

  private reject(socket: Socket): void {
    this.counters.rejected += 1;
    if (this.connections.size >= this.maxConnections) {
      const limit = `${this.maxConnections} connections open`;
      this.warnFirst(!this.warnedFull, `${this.origin}: ${limit}, new clients are reset`);
      this.warnedFull = true;
    } else {
      const limit = `too many open files (limit ${this.fds.limit})`;
      this.warnFirst(!this.warnedFds, `${this.origin}: ${limit}, new clients are reset`);
      this.warnedFds = true;
    }
    socket.on('error', ignore);
    reset(socket);
  }

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
    this.warnFirst(!this.dialsFailing, `cannot reach ${target} for ${this.origin}: ${why}`);
    this.dialsFailing = true;
  }

  dialSucceeded(ms: number): void {
    this.dialsFailing = false;
    this.onDialed?.(this.forward, ms);
  }

  /** The listeners' `error` handler: accept() failed (EMFILE, ENFILE); they stay open. */
  readonly acceptFailed = (error: NodeJS.ErrnoException) => {
    const why = describeSystemError(error);
    this.warnFirst(!this.warnedAccept, `${this.origin}: cannot accept a client: ${why}`);
    this.warnedAccept = true;
  };

  /** The first of its kind is a warning, repeats are debug lines. */
  private warnFirst(first: boolean, message: string) {
    if (first) this.logger.warn(message);
    else debugForward(message);
  }

  /** Called once per connection, when both of its sockets have closed. */
  released(connection: Connection): void {
    if (this.connections.delete(connection)) this.fds.release();
    if (this.connections.size === 0) this.onDrained?.();
  }
}

function ignore() {}
