// The forwarder's behaviour matrix, shared by the forwarder-*.test.ts files (and the threads
// tests' skip reason, noThreads). It starts the forwarder of src/, so it lives beside the tests
// rather than in test/helpers/, which imports nothing from src/ (test/helpers-direction.test.ts).
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { supportsReusePort } from '../src/forward/cpus.js';
import { startForwarder } from '../src/forward/forwarder.js';
import type { ForwarderOptions } from '../src/forward/settings.js';
import type { Logger } from '../src/log.js';
import type { ListenAddress, PlannedForward } from '../src/plan/index.js';
import type { Endpoint } from '../src/plan/spec.js';
import { REMOTE } from './helpers/sockets.js';

const LOOPBACK: ListenAddress[] = [
  { host: '127.0.0.1', port: 0 },
  { host: '::1', port: 0, optional: true },
];
export const MiB = 1024 * 1024;
export const quick = { timeout: 10_000 };

/** A forward from 127.0.0.1 and ::1 (port 0, ::1 optional) to `target`, given by a flag. */
export function planned(target: Endpoint, extra: Partial<PlannedForward> = {}): PlannedForward {
  const origin = `0:${target.host}:${target.port}`;
  return { listen: LOOPBACK, target, origin, source: 'flag', explicit: true, ...extra };
}

/**
 * A forwarder on 127.0.0.1 and ::1 (one ephemeral port) to `target` (a bare number is a port on
 * {@link REMOTE}), closed after the test.
 */
async function forwardToAny(
  t: TestContext,
  target: Endpoint | number,
  options: ForwarderOptions = {},
) {
  const endpoint = typeof target === 'number' ? { host: REMOTE, port: target } : target;
  const forwarder = await startForwarder(planned(endpoint), options);
  t.after(() => forwarder.close());
  if (options.acceptPath !== undefined) assert.equal(forwarder.acceptPath, options.acceptPath);
  const port = forwarder.addresses[0]?.port ?? 0;
  return { forwarder, port };
}

/** A logger that keeps its warnings. */
export function recorder(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (message) => warnings.push(message), error: () => {} };
}

/**
 * The behaviour matrix, run once per accept path: the fast path (the listener's accept hook)
 * and Node's own net.Server accept, with the same options (forward/accept.ts).
 */
const VARIANTS = [
  { acceptPath: 'fast', threads: 1, label: 'fast accept path' },
  { acceptPath: 'fallback', threads: 1, label: 'fallback accept path' },
  { acceptPath: 'fast', threads: 2, label: 'fast accept path, 2 threads' },
] as const;
/** Threads need reusePort (Node 22.12+); on an older Node the tests that use them skip. */
export const noThreads = supportsReusePort()
  ? false
  : `Node ${process.versions.node} has no reusePort: forwarding threads need Node 22.12 or later`;
/** A lookup function cannot be posted to a worker thread: it serves the main thread only. */
export const LOOKUP_MAIN_ONLY =
  'a lookup function runs in the main thread only (workers use dns.lookup)';

/**
 * The variants of the matrix, each with its `skip` (for its describe blocks) and its
 * `forwardTo`: {@link forwardToAny} on that accept path, with that many forwarding threads.
 */
export const MATRIX = VARIANTS.map(({ acceptPath, threads, label }) => ({
  acceptPath,
  threads,
  label,
  skip: threads > 1 ? noThreads : false,
  forwardTo: (t: TestContext, target: Endpoint | number, options: ForwarderOptions = {}) =>
    forwardToAny(t, target, { acceptPath, threads, ...options }),
}));
