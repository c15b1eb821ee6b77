import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeSystemError, LinkfwdError } from '../errors.js';
import { debugForward } from '../log.js';
import { DEFAULTS, formatDuration } from '../options/index.js';
import {
  describeOrigin,
  type Endpoint,
  formatEndpoint,
  type PlannedForward,
} from '../plan/index.js';

/** A signal that never aborts: a probe without one. */
const NEVER = new AbortController().signal;

export interface WaitOptions {
  /** Give up after this many milliseconds. */
  timeout: number;
  /** Limit of one dial attempt (default 10 s, never beyond the deadline). */
  connectTimeout?: number;
  /** Pause between attempts to one target (default 250 ms). */
  interval?: number;
  /** Stops waiting; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Whether a forward's target can be probed. A TCP target accepts a connection or refuses it;
 * nothing answers a datagram on its own, so a UDP target cannot be: `--wait` and `/readyz` leave
 * it out.
 */
export function isProbeable(forward: Pick<PlannedForward, 'protocol'>): boolean {
  return forward.protocol !== 'udp';
}

/**
 * Resolves once the target of every forward that {@link isProbeable} has accepted a TCP
 * connection (each probe is closed at once). Targets are polled concurrently. Rejects with ERR_LINKFWD_WAIT_TIMEOUT naming the
 * targets still down when `timeout` passes.
 */
export async function waitForTargets(
  forwards: readonly PlannedForward[],
  options: WaitOptions,
): Promise<void> {
  const deadline = Date.now() + options.timeout;
  const down = new Map<string, PlannedForward>();
  for (const forward of forwards.filter(isProbeable)) {
    down.set(formatEndpoint(forward.target), forward);
  }
  const timer = AbortSignal.timeout(options.timeout);
  const signal = options.signal === undefined ? timer : AbortSignal.any([timer, options.signal]);

  /** Why each target's last attempt failed: the timeout message says it. */
  const lastFailure = new Map<string, string | undefined>();
  const poll = async (key: string, forward: PlannedForward) => {
    for (let attempt = 1; ; attempt++) {
      const limit = Math.min(
        options.connectTimeout ?? DEFAULTS.connectTimeout,
        Math.max(deadline - Date.now(), 1),
      );
      const failure = await probe(forward.target, limit, signal);
      lastFailure.set(key, failure);
      if (failure === undefined) {
        down.delete(key);
        debugForward('%s is up (%s)', key, describeOrigin(forward));
        return;
      }
      debugForward(
        'waiting for %s (%s): %s, attempt %d',
        key,
        describeOrigin(forward),
        failure,
        attempt,
      );
      await sleep(options.interval ?? 250, undefined, { signal });
    }
  };
  try {
    await Promise.all([...down].map(([key, forward]) => poll(key, forward)));
  } catch (error) {
    if (options.signal?.aborted === true) throw options.signal.reason;
    if (!timer.aborted) throw error;
    const names = [...down]
      .map(([key, f]) => {
        const why = lastFailure.get(key) ?? 'no answer yet';
        return `${key} (${describeOrigin(f)}): ${why}`;
      })
      .join('; ');
    throw new LinkfwdError(
      'ERR_LINKFWD_WAIT_TIMEOUT',
      `gave up after ${formatDuration(options.timeout)} waiting for ${names}`,
    );
  }
}

/**
 * One dial, closed at once: `undefined` when the target accepted, else why not
 * (`connection refused`, `timed out`). The check of `--wait` and of `/readyz`.
 */
export function probe(
  target: Endpoint,
  timeout: number,
  signal: AbortSignal = NEVER,
): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const socket = connect({ host: target.host, port: target.port, timeout });
    const finish = (result: string | undefined) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = () => {
      socket.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish(undefined));
    socket.once('timeout', () => finish('timed out'));
    socket.once('error', (error) => finish(describeSystemError(error)));
  });
}
