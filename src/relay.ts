import { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { Connection, clientFromHandle } from './connection.js';
import { describeSystemError } from './errors.js';
import { fdBudget } from './fd-budget.js';
import type { ForwarderOptions, ForwardStats } from './forwarder.js';
import { debugForward, type Logger, silentLogger } from './log.js';
import { describeOrigin, type PlannedForward } from './plan.js';
import { formatEndpoint } from './spec.js';

const DEFAULT_CONNECT_TIMEOUT = 10_000;
const DEFAULT_MAX_CONNECTIONS = 4096;

/**
 * The connection side of one forward: takes each accepted client (or resets it when
 * `maxConnections` are open), dials the target for it, and keeps the counters and the dial
 * warning policy. All state lives here, one instance per forwarder.
 */
export class Relay {
  readonly dialOptions: { host: string; port: number; lookup?: ForwarderOptions['lookup'] };
  readonly connectTimeout: number;
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
  private warnedFds = false;
  private warnedAccept = false;
  /** Resolves {@link abortAll} once the last connection is released. */
  private onDrained: (() => void) | undefined;

  constructor(
    private readonly forward: PlannedForward,
    options: ForwarderOptions,
  ) {
    this.connectTimeout = options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT;
    this.idleTimeout = options.idleTimeout ?? 0;
    this.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.logger = options.logger ?? silentLogger;
    this.origin = describeOrigin(forward);
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

  /**
   * A listening handle's `onconnection(status, handle)`: the accepted handle, before Node's
   * net.Server would wrap it in a socket (see {@link takeAccepts}).
   */
  readonly acceptHandle = (status: number, handle: unknown) => {
    if (status < 0) {
      const code = getSystemErrorName(status);
      this.acceptFailed(Object.assign(new Error(`accept ${code}`), { code, errno: status }));
    } else if (this.connections.size >= this.maxConnections || fdBudget.full) {
      this.reject(new Socket({ handle } as ConstructorParameters<typeof Socket>[0]));
    } else {
      this.admit(clientFromHandle(handle));
    }
  };

  /** The listeners' `connection` handler; the socket arrives paused (`pauseOnConnect`). */
  readonly accept = (socket: Socket) => {
    if (this.connections.size >= this.maxConnections || fdBudget.full) this.reject(socket);
    else this.admit(socket);
  };

  private admit(socket: Socket): void {
    this.counters.accepted += 1;
    try {
      this.connections.add(new Connection(this, socket));
      fdBudget.take();
    } catch (error) {
      // net.connect throws synchronously only for options it rejects (a bad port from a
      // library caller): fail this client like any other dial, never crash the process.
      socket.on('error', ignore);
      socket.resetAndDestroy();
      this.dialFailed(error);
    }
  }

  private reject(socket: Socket): void {
    this.counters.rejected += 1;
    if (this.connections.size >= this.maxConnections) {
      const limit = `${this.maxConnections} connections open`;
      this.report(!this.warnedFull, `${this.origin}: ${limit}, new clients are reset`);
      this.warnedFull = true;
    } else {
      const limit = `too many open files (limit ${fdBudget.limit})`;
      this.report(!this.warnedFds, `${this.origin}: ${limit}, new clients are reset`);
      this.warnedFds = true;
    }
    socket.on('error', ignore);
    socket.resetAndDestroy();
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
    if (this.connections.delete(connection)) fdBudget.release();
    if (this.connections.size === 0) this.onDrained?.();
  }
}

function ignore() {}
