import type { Socket, TcpSocketConnectOpts } from 'node:net';
import { describeSystemError } from '../errors.js';
import { debugForward, type Logger, silentLogger } from '../log.js';
import { DEFAULTS } from '../options/index.js';
import { describeOrigin, formatEndpoint, type PlannedForward } from '../plan/index.js';
import { Connection, type ConnectionOwner, reset } from './connection.js';
import { type FdBudget, processFdBudget } from './fd-budget.js';
import type { ForwarderOptions, ForwardStats } from './settings.js';
import {
  ACCEPTED,
  ACTIVE,
  DIALS_FAILING,
  ForwardShared,
  REJECTED,
  WARNED_ACCEPT,
  WARNED_FDS,
  WARNED_FULL,
} from './shared.js';

/**
 * The connections of one forward: admits each accepted client (or resets it when
 * `maxConnections` are open or the open-file limit is near), starts its {@link Connection}, and
 * keeps the counters and the warning policy. One instance per forwarder and forwarding thread:
 * the live count, the warn-once flags and the counters are in the forward's {@link
 * ForwardShared}, so limits and warnings hold for the forward across every thread.
 */
export class ForwardConnections implements ConnectionOwner {
  readonly dialOptions: TcpSocketConnectOpts;
  readonly connectTimeout: number;
  readonly idleTimeout: number;
  /** This thread's counter slot (shared.ts). */
  readonly counters: Float64Array;
  private readonly flags: Int32Array;
  private readonly maxConnections: number;
  private readonly fds: FdBudget = processFdBudget();
  private readonly logger: Logger;
  /** `-f 5432:db:5432`, `DB_PORT_5432_TCP`: how messages name the forward. */
  private readonly origin: string;
  private readonly onDialed: ForwarderOptions['onDialed'];
  /** This thread's connections (the forward's count across threads is the ACTIVE flag). */
  private readonly connections = new Set<Connection>();
  /** Resolves {@link abortAll} once the last connection is released. */
  private onDrained: (() => void) | undefined;

  constructor(
    private readonly forward: PlannedForward,
    options: ForwarderOptions,
    readonly shared = new ForwardShared(1),
    thread = 0,
  ) {
    this.counters = shared.slot(thread);
    this.flags = shared.flags;
    this.connectTimeout = options.connectTimeout ?? DEFAULTS.connectTimeout;
    this.idleTimeout = options.idleTimeout ?? DEFAULTS.idleTimeout;
    this.maxConnections = options.maxConnections ?? DEFAULTS.maxConnections;
    this.logger = options.logger ?? silentLogger;
    this.origin = describeOrigin(forward);
    this.onDialed = options.onDialed;
    this.dialOptions = { host: forward.target.host, port: forward.target.port };
    if (options.lookup !== undefined) this.dialOptions.lookup = options.lookup;
  }

  /** The forward's counters, every thread's added up (`threads`: accepted per thread). */
  stats(): ForwardStats {
    const { perThread, ...sum } = this.shared.sum();
    const stats: ForwardStats = { ...sum, active: Atomics.load(this.flags, ACTIVE) };
    if (this.shared.threads > 1) stats.threads = perThread;
    return stats;
  }

  /**
   * A listener's client, paused (accept.ts): admitted, or reset when over a limit. A place is
   * taken first and given back if over, so the limits are exact across threads.
   */
  readonly accept = (socket: Socket, viaOnread: boolean) => {
    if (Atomics.add(this.flags, ACTIVE, 1) >= this.maxConnections) {
      Atomics.sub(this.flags, ACTIVE, 1);
      this.reject(socket, WARNED_FULL, `${this.maxConnections} connections open`);
    } else if (!this.fds.tryTake()) {
      Atomics.sub(this.flags, ACTIVE, 1);
      this.reject(socket, WARNED_FDS, `too many open files (limit ${this.fds.limit})`);
    } else {
      this.admit(socket, viaOnread);
    }
  };

  private admit(socket: Socket, viaOnread: boolean): void {
    this.counters[ACCEPTED]! += 1;
    try {
      this.connections.add(new Connection(this, socket, viaOnread));
    } catch (error) {
      // net.connect throws synchronously only for options it rejects (a bad port from a
      // library caller): fail this client like any other dial, never crash the process.
      Atomics.sub(this.flags, ACTIVE, 1);
      this.fds.release();
      // Counted before the reset, as Connection.dialFailed does: once the client sees its RST,
      // the stats (read from another thread, too) already show why.
      this.dialFailed(error);
      socket.on('error', ignore);
      reset(socket);
    }
  }

  private reject(socket: Socket, warned: number, limit: string): void {
    this.counters[REJECTED]! += 1;
    this.warnFirst(warned, `${this.origin}: ${limit}, new clients are reset`);
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
    this.counters[ForwardShared.codeIndex(code)]! += 1;
    const target = formatEndpoint(this.forward.target);
    const why = describeSystemError(error);
    // Set by a dial failure, cleared by a success: only the first failure of a run warns.
    this.warnFirst(DIALS_FAILING, `cannot reach ${target} for ${this.origin}: ${why}`);
  }

  dialSucceeded(ms: number): void {
    // Read first: a store on every connection would bounce the cache line between threads.
    if (this.flags[DIALS_FAILING] !== 0) Atomics.store(this.flags, DIALS_FAILING, 0);
    this.onDialed?.(this.forward, ms);
  }

  /** The listeners' `error` handler: accept() failed (EMFILE, ENFILE); they stay open. */
  readonly acceptFailed = (error: NodeJS.ErrnoException) => {
    const why = describeSystemError(error);
    this.warnFirst(WARNED_ACCEPT, `${this.origin}: cannot accept a client: ${why}`);
  };

  /**
   * The first of its kind (its flag was clear) is a warning, repeats are debug lines: once per
   * forward in the whole process, whichever thread sees it first.
   */
  private warnFirst(flag: number, message: string) {
    if (Atomics.exchange(this.flags, flag, 1) === 0) this.logger.warn(message);
    else debugForward(message);
  }

  /** Called once per connection, when both of its sockets have closed. */
  released(connection: Connection): void {
    if (this.connections.delete(connection)) {
      this.fds.release();
      Atomics.sub(this.flags, ACTIVE, 1);
    }
    if (this.connections.size === 0) this.onDrained?.();
  }
}

function ignore() {}
