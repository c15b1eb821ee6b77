import type { Server, Socket } from 'node:net';

/** Who may hold a status connection. */
export interface AdmissionLimits {
  /** Connections open at once; beyond, the oldest is closed. */
  maxOpen: number;
  /** New connections taken on per second; beyond, the rest of the second's are refused. */
  perSecond: number;
}

/**
 * Limits the status server's connections, so that neither slow clients nor a flood can make
 * the endpoint a load on linkfwd: its HTTP thread has an event loop of its own, but the
 * process's CPU is the forwards' too, and `/readyz` and `/metrics` are answered by the main
 * thread:
 *
 * - At most `maxOpen` are open. Beyond that the oldest is closed, not the newest: a probe is
 *   answered within milliseconds, so the oldest is the slow one, and slowloris clients only
 *   push each other out (Node's own `maxConnections` alone would refuse the probes).
 * - At most `perSecond` are taken on in a second. Beyond that, until the second is over,
 *   `maxConnections = 0` makes Node close each new connection as it is accepted, before any
 *   socket or HTTP state is made for it (test/status-hostile.test.ts; BENCHMARKS.md, "The
 *   status endpoint under a flood", for what a connection costs either way). Probes and
 *   scrapes need a few a second; a client that opens connections faster gets refusals, and
 *   linkfwd's work on the endpoint stays bounded however fast it retries.
 *
 * @returns a function that stops the limiter's timer (when the server closes).
 */
export function limitAdmission(server: Server, limits: AdmissionLimits): () => void {
  const open = new Set<Socket>(); // in arrival order
  let windowEnd = 0;
  let taken = 0;
  let reopen: NodeJS.Timeout | undefined;
  server.maxConnections = Number.POSITIVE_INFINITY;

  server.on('connection', (socket: Socket) => {
    const now = performance.now();
    if (now >= windowEnd) {
      windowEnd = now + 1000;
      taken = 0;
    }
    taken += 1;
    if (taken >= limits.perSecond && reopen === undefined) {
      server.maxConnections = 0;
      reopen = setTimeout(() => {
        reopen = undefined;
        server.maxConnections = Number.POSITIVE_INFINITY;
      }, windowEnd - now);
      reopen.unref();
    }
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    if (open.size <= limits.maxOpen) return;
    const oldest = open.values().next().value;
    if (oldest === undefined) return;
    open.delete(oldest);
    oldest.destroy();
  });

  return () => {
    clearTimeout(reopen);
    reopen = undefined;
  };
}
