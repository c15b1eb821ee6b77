import type { LookupFunction } from 'node:net';
import type { Logger } from '../log.js';
import type { Endpoint, PlannedForward } from '../plan/index.js';
import type { AcceptPath } from './accept.js';

export interface ForwarderOptions {
  /** Upstream dial timeout in ms, name resolution included (default 10 000; 0 = none). */
  connectTimeout?: number;
  /**
   * Close a connection after this many ms without a byte in either direction (0 or undefined:
   * never). The close is polite (FIN both ways); a transfer stalled because a reader stopped
   * reading counts as idle too, and is reset instead, so that it cannot pass for complete.
   */
  idleTimeout?: number;
  /**
   * Live connections per forward, all its listeners together (default 4096); more are reset.
   * For a UDP forward: flows; datagrams from further peers are dropped.
   */
  maxConnections?: number;
  /** Forget a UDP flow (close its upstream socket) after this many ms without a datagram (default 60 000). */
  udpIdleTimeout?: number;
  /** chmod a Unix-socket listener to this mode once it listens (default: what the umask gives). */
  unixMode?: number;
  /** Create a Unix-socket listener's missing parent directories (default: fail naming the path). */
  mkdir?: boolean;
  /** {@link startForwarders}: a discovered forward that cannot bind is fatal, not skipped. */
  strict?: boolean;
  /**
   * Forwarding threads (README: "Forwarding threads"): every listener is bound in each, with
   * `reusePort` (Node 22.12 or later). `'auto'`: the usable CPUs less one, 1 to 4. Default 1: this
   * thread only, no worker. With more than one, `lookup` is used by this thread only.
   */
  threads?: number | 'auto';
  /** Receives warnings (default: none). */
  logger?: Logger;
  /** Resolves the target host name, once per connection (default `dns.lookup`). For tests. */
  lookup?: LookupFunction;
  /**
   * Called when an upstream dial connects, with the milliseconds it took (name resolution
   * included). For metrics (`--status`); it runs once per connection, never per chunk, always
   * in the calling thread: forwarding threads post their dials to it.
   */
  onDialed?: (forward: PlannedForward, ms: number) => void;
  /**
   * @internal Tests only: `'fallback'` makes the listeners take clients through Node's own
   * net.Server accept instead of the fast path (forward/accept.ts).
   */
  acceptPath?: AcceptPath;
  /**
   * @internal Tests only: the listeners of forwarding thread N (1, 2, ...) fail to bind with
   * EADDRINUSE, as a port taken between the main thread's bind and a worker's would.
   */
  threadBindFault?: number;
}

/** One {@link PlannedForward}, listening. */
export interface Forwarder {
  readonly forward: PlannedForward;
  /**
   * The addresses actually bound; with port 0, the real port (one for every address). Empty
   * for a Unix-socket listener (its path is `forward.unix`).
   */
  readonly addresses: Endpoint[];
  /** @internal How its listeners take clients (forward/accept.ts); `none` for UDP. Tests check it. */
  readonly acceptPath: AcceptPath | 'none';
  stats(): ForwardStats;
  /**
   * Stops accepting, resets every live connection (both legs: an interrupted transfer must not
   * look complete), closes every UDP flow, removes a Unix listener's socket file, and resolves
   * once every listener and socket has closed. Idempotent.
   */
  close(): Promise<void>;
}

/** Counters only a UDP forward has. */
export interface UdpStats {
  /** Datagrams read from clients (client → target). */
  datagramsIn: number;
  /** Datagrams read from the target (target → client). */
  datagramsOut: number;
  /** Datagrams linkfwd could not pass on (flow cap, unresolvable target, a send that failed). */
  dropped: number;
  /** ICMP port unreachable from the target (ECONNREFUSED on a flow's socket). */
  refused: number;
  /** Flows closed after `udpIdleTimeout` without a datagram. */
  expired: number;
}

/** A live snapshot of one forward's counters. */
export interface ForwardStats {
  /** Clients taken on and dialled for (those reset for `maxConnections` are not counted); UDP: flows opened. */
  accepted: number;
  /** Connections open now, dialling included; UDP: flows open now. */
  active: number;
  /** Failed upstream dials by errno code (`ECONNREFUSED`, `ETIMEDOUT`, `ENOTFOUND`, ...). */
  failedDials: Record<string, number>;
  /** Bytes read from clients (client → target). */
  bytesIn: number;
  /** Bytes read from the target (target → client). */
  bytesOut: number;
  /** Clients reset because `maxConnections` were open, or the open-file limit was near; UDP: datagrams from new peers dropped over the flow cap. */
  rejected: number;
  /** UDP forwards only. */
  udp?: UdpStats;
  /**
   * With more than one forwarding thread: `accepted` per thread, the main thread first (how the
   * kernel spread the clients over the threads' listeners).
   */
  threads?: number[];
}
