import { createServer, isIPv4, isIPv6, type Server } from 'node:net';
import { describeSystemError, LinkfwdError } from '../errors.js';
import { debugForward, loadDebugIfWanted, silentLogger } from '../log.js';
import {
  describeOrigin,
  type Endpoint,
  type ListenAddress,
  type PlannedForward,
} from '../plan/index.js';
import { type AcceptPath, SERVER_OPTIONS, takeClients } from './accept.js';
import { ForwardConnections } from './connections.js';
import { resolveThreads } from './cpus.js';
import { prepareDataPath } from './data-path.js';
import { processFdBudget } from './fd-budget.js';
import { closeServer, failedRound, isNoIPv6, type ListenFailure, listenOn } from './listen.js';
import type { Forwarder, ForwarderOptions, ForwardStats } from './settings.js';
import { ForwardShared } from './shared.js';
import type { ForwardThreads } from './threads.js';

/** The forwarders of a plan, and the discovered forwards that could not bind. */
export interface ForwarderGroup {
  readonly forwarders: Forwarder[];
  readonly skipped: { origin: string; reason: string }[];
  /**
   * With `threads` > 1: resolves (never rejects) with ERR_LINKFWD_THREAD if a forwarding thread
   * fails; the forwarders then serve with less capacity than asked, so the caller should close
   * them and stop (`run()` does). With one thread it never resolves.
   */
  readonly failed: Promise<LinkfwdError>;
  /** Closes every forwarder, and ends every forwarding thread. Idempotent. */
  close(): Promise<void>;
  /** @internal Tests: the worker threads, with `threads` > 1. */
  readonly threads: ForwardThreads | undefined;
}

/**
 * Binds every listen address of `forward` and forwards each client to its target (README: "How
 * connections are forwarded").
 * All or none: if one address fails, the ones already bound are closed and the promise rejects.
 * An `optional` address (the default `::1`) failing with EADDRNOTAVAIL or EAFNOSUPPORT (no IPv6
 * on this host) is left out instead. With port 0 every address gets the same ephemeral port.
 * IPv6 listeners are IPv6-only when the forward also listens on IPv4 (so `::` and `0.0.0.0` can
 * both be bound); a lone `::` is dual-stack.
 *
 * @throws {LinkfwdError} ERR_LINKFWD_LISTEN, the OS error as `cause`:
 *   `cannot listen on 127.0.0.1:5432: address already in use (-f 5432:db:5432)`.
 */
export async function startForwarder(
  forward: PlannedForward,
  options: ForwarderOptions = {},
): Promise<Forwarder> {
  await loadDebugIfWanted();
  // UDP forwards and Unix listeners are served by the main thread alone.
  const threaded = forward.protocol !== 'udp' && forward.unix === undefined;
  const threads = threaded ? await startThreads(options) : undefined;
  const started = await tryStart(forward, options, threads);
  if (!isFailure(started)) return started;
  await threads?.close();
  throw listenError(forward, started, '');
}

/** The worker threads `options.threads` asks for, none for one thread. */
async function startThreads(options: ForwarderOptions): Promise<ForwardThreads | undefined> {
  const count = resolveThreads(options.threads);
  if (count <= 1) return undefined;
  // Loaded only when used, like udp.ts and unix.ts: node:worker_threads, node:dgram and
  // node:fs/promises cost start-up time (BENCHMARKS.md) that a plain TCP forward never needs.
  const { ForwardThreads } = await import('./threads.js');
  return ForwardThreads.start(count, options.logger);
}

const never = new Promise<never>(() => {});

/**
 * Starts a plan's forwarders one after the other. An explicit forward that cannot bind closes
 * the ones already started and rejects (ERR_LINKFWD_LISTEN). A discovered one is skipped with
 * a warning, or with `strict` rejects the same way.
 */
export async function startForwarders(
  forwards: readonly PlannedForward[],
  options: ForwarderOptions = {},
): Promise<ForwarderGroup> {
  const forwarders: Forwarder[] = [];
  const skipped: { origin: string; reason: string }[] = [];
  await loadDebugIfWanted();
  const threads = await startThreads(options);
  // One pool for the group: closed by the group, not by each forwarder.
  const own = { ...options, threads: 1 };
  try {
    for (const forward of forwards) {
      const started = await tryStart(forward, own, threads);
      if (!isFailure(started)) {
        forwarders.push(started);
      } else if (forward.explicit) {
        throw listenError(forward, started, '');
      } else if (options.strict === true) {
        throw listenError(forward, started, ', --strict');
      } else {
        (options.logger ?? silentLogger).warn(`${forward.origin} skipped: ${started.reason}`);
        skipped.push({ origin: forward.origin, reason: started.reason });
      }
    }
  } catch (error) {
    await Promise.all([...forwarders.map((f) => f.close()), threads?.close()]);
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    forwarders,
    skipped,
    failed: threads?.failed ?? never,
    threads,
    close() {
      closing ??= Promise.all([...forwarders.map((f) => f.close()), threads?.close()]).then(
        () => {},
      );
      return closing;
    },
  };
}

function listenError(forward: PlannedForward, failure: ListenFailure, note: string): LinkfwdError {
  return new LinkfwdError(
    'ERR_LINKFWD_LISTEN',
    `${failure.reason} (${describeOrigin(forward)}${note})`,
    { origin: forward.origin, cause: failure.cause },
  );
}

async function tryStart(
  forward: PlannedForward,
  options: ForwarderOptions,
  threads: ForwardThreads | undefined,
): Promise<Forwarder | ListenFailure> {
  if (forward.protocol === 'udp') {
    const { startUdpForwarder } = await import('./udp.js');
    return startUdpForwarder(forward, options);
  }
  if (forward.unix !== undefined) {
    const forwarder = new ActiveForwarder(forward, options, undefined);
    return (await forwarder.listenUnix(forward.unix, options)) ?? forwarder;
  }
  const forwarder = new ActiveForwarder(forward, options, threads);
  const failure = await forwarder.listen();
  return failure ?? forwarder;
}

class ActiveForwarder implements Forwarder {
  readonly addresses: Endpoint[] = [];
  acceptPath: AcceptPath;
  private readonly servers: Server[] = [];
  private readonly connections: ForwardConnections;
  private closing: Promise<void> | undefined;

  constructor(
    readonly forward: PlannedForward,
    private readonly options: ForwarderOptions,
    /** The worker threads that serve it too; they are closed with it if `options.threads` > 1. */
    private readonly threads: ForwardThreads | undefined,
  ) {
    const shared = new ForwardShared(threads?.count ?? 1);
    this.connections = new ForwardConnections(forward, options, shared, 0);
    this.acceptPath = options.acceptPath ?? 'fast';
  }

  stats(): ForwardStats {
    return this.connections.stats();
  }

  close(): Promise<void> {
    // server.close() alone would wait for every live connection to end by itself.
    const ownThreads = (this.options.threads ?? 1) !== 1 ? this.threads : undefined;
    this.closing ??= Promise.all([
      ...this.servers.map(closeServer),
      this.connections.abortAll(),
      ownThreads?.close(),
    ]).then(() => {});
    return this.closing;
  }

  /**
   * Listens on a Unix-socket path (forward/unix.ts: stale sockets, `--mkdir`, `--unix-mode`).
   * Its clients take the same accept path and data path as TCP clients.
   */
  async listenUnix(path: string, options: ForwarderOptions): Promise<ListenFailure | undefined> {
    prepareDataPath();
    const server = createServer(SERVER_OPTIONS);
    const { listenUnix } = await import('./unix.js');
    const failure = await listenUnix(server, path, options);
    if (failure !== undefined) return failure;
    const { accept, acceptFailed } = this.connections;
    this.acceptPath = takeClients(server, accept, acceptFailed, this.acceptPath);
    this.servers.push(server);
    processFdBudget().measure();
    return undefined;
  }

  /** The same addresses, concrete ports, in every worker thread: all of them or none. */
  private bindInThreads(): Promise<ListenFailure | undefined> {
    if (this.threads === undefined) return Promise.resolve(undefined);
    const { connectTimeout, idleTimeout, maxConnections, threadBindFault, onDialed } = this.options;
    const { acceptPath, forward } = this;
    const options = { connectTimeout, idleTimeout, maxConnections, acceptPath, threadBindFault };
    const dialed = onDialed && ((ms: number) => onDialed(forward, ms));
    return this.threads.bind(forward, this.addresses, options, this.connections.shared, dialed);
  }

  /** Binds every address, or none, in every thread; resolves with the failure, if any. */
  async listen(): Promise<ListenFailure | undefined> {
    const { listen } = this.forward;
    const hasIPv4 = listen.some((address) => isIPv4(address.host));
    prepareDataPath();
    for (let attempt = 1; ; attempt++) {
      let ephemeral: number | undefined;
      let failure: { address: ListenAddress; port: number; error: unknown } | undefined;
      for (const address of listen) {
        const port = address.port === 0 ? (ephemeral ?? 0) : address.port;
        const server = createServer(SERVER_OPTIONS);
        try {
          const ipv6Only = hasIPv4 && isIPv6(address.host);
          await listenOn(server, address.host, port, ipv6Only, this.threads !== undefined);
        } catch (error) {
          if (!isNoIPv6(address, error)) {
            failure = { address, port, error };
            break;
          }
          const why = describeSystemError(error);
          debugForward(
            '%s: not listening on %s: %s',
            describeOrigin(this.forward),
            address.host,
            why,
          );
          continue;
        }
        const { accept, acceptFailed } = this.connections;
        this.acceptPath = takeClients(server, accept, acceptFailed, this.acceptPath);
        const bound = { host: address.host, port: (server.address() as { port: number }).port };
        if (address.port === 0) ephemeral = bound.port;
        this.servers.push(server);
        this.addresses.push(bound);
      }
      if (failure === undefined && this.servers.length > 0) {
        const elsewhere = await this.bindInThreads();
        if (elsewhere === undefined) {
          processFdBudget().measure(); // the listeners are open now
          return undefined;
        }
        await Promise.all(this.servers.splice(0).map(closeServer));
        this.addresses.length = 0;
        return elsewhere;
      }
      await Promise.all(this.servers.splice(0).map(closeServer));
      this.addresses.length = 0;
      if (failure === undefined) return { reason: 'no address to listen on', cause: undefined };
      const result = failedRound(failure, attempt);
      if (result !== undefined) return result;
    }
  }
}

function isFailure(started: Forwarder | ListenFailure): started is ListenFailure {
  return 'reason' in started;
}
