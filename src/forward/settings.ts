import type { LookupFunction } from 'node:net';
import type { Logger } from '../log.js';
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
  /** Live connections per forward, all its listeners together (default 4096); more are reset. */
  maxConnections?: number;
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

/** A live snapshot of one forward's counters. */
export interface ForwardStats {
  /** Clients taken on and dialled for (those reset for `maxConnections` are not counted). */
  accepted: number;
  /** Connections open now, dialling included. */
  active: number;
  /** Failed upstream dials by errno code (`ECONNREFUSED`, `ETIMEDOUT`, `ENOTFOUND`, ...). */
  failedDials: Record<string, number>;
  /** Bytes read from clients (client → target). */
  bytesIn: number;
  /** Bytes read from the target (target → client). */
  bytesOut: number;
  /** Clients reset because `maxConnections` were open, or the open-file limit was near. */
  rejected: number;
  /**
   * With more than one forwarding thread: `accepted` per thread, the main thread first (how the
   * kernel spread the clients over the threads' listeners).
   */
  threads?: number[];
}
