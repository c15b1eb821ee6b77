/** The messages between the main thread (threads.ts) and a forwarding thread (worker.ts). */
import type { Endpoint, PlannedForward } from '../plan/index.js';
import type { AcceptPath } from './accept.js';
import type { ForwardSharedBuffers } from './shared.js';

/** A worker's `workerData`. */
export interface ThreadStart {
  /** 1, 2, ...: the main thread is thread 0. */
  thread: number;
  /** The process cells (shared.ts). */
  process: SharedArrayBuffer;
  /** The `debug` namespaces enabled in the main thread, if any (`-v`, `DEBUG`). */
  debug: string | undefined;
}

/** What a forwarding thread needs of the forwarder's options (functions cannot be posted). */
export interface ThreadForwardOptions {
  connectTimeout?: number | undefined;
  idleTimeout?: number | undefined;
  maxConnections?: number | undefined;
  acceptPath?: AcceptPath | undefined;
  /** Post each dial's latency to the main thread (ForwarderOptions.onDialed is set there). */
  reportDials?: boolean | undefined;
  /** ForwarderOptions.threadBindFault (tests). */
  threadBindFault?: number | undefined;
}

export type ThreadMessage =
  | {
      type: 'bind';
      id: number;
      forward: PlannedForward;
      /** The addresses the main thread bound: concrete ports, port 0 already chosen. */
      addresses: Endpoint[];
      options: ThreadForwardOptions;
      threads: number;
      shared: ForwardSharedBuffers;
    }
  | { type: 'unbind'; id: number }
  | { type: 'close' }
  | { type: 'crash' };

export type ThreadReply =
  | { type: 'ready' }
  | { type: 'bound'; id: number; failure?: { reason: string; code: string | undefined } }
  | { type: 'unbound'; id: number }
  | { type: 'closed' }
  | { type: 'log'; level: 'warn' | 'error'; message: string }
  | { type: 'debug'; line: string }
  /** A dial of forward `id` succeeded after `ms` (with `reportDials`). */
  | { type: 'dialed'; id: number; ms: number };
