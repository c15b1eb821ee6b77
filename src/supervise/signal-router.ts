import type { ChildProcess } from 'node:child_process';
import { describeSystemError } from '../errors.js';
import { debugSupervisor as debug } from '../log.js';
import {
  isForegroundProcess,
  isTerminating,
  listenedSignals,
  shouldForward,
  signalAliases,
} from './signals.js';

/** The part of `process` the supervisor uses; tests inject an `EventEmitter`. */
export interface ProcessLike extends NodeJS.EventEmitter {
  pid: number;
  kill(pid: number, signal: NodeJS.Signals): boolean;
}

/** Routes the signals linkfwd receives: held while no app runs, then passed to the app. */
export interface SignalRouter {
  /** The first terminating signal (TERM, INT, HUP) received while no child was attached. */
  readonly pendingTermination: NodeJS.Signals | undefined;
  /**
   * Resolves with the first terminating signal received while no child is attached; stays
   * pending once one is. Other signals received then are ignored (forward-only mode).
   */
  readonly terminated: Promise<NodeJS.Signals>;
  /**
   * From now on each forwarded signal goes to `child` once per delivery (README: "Signals
   * and exit status"). Signals
   * arriving after it exited are dropped. One child per router.
   */
  attach(child: ChildProcess): void;
  /** Removes every listener the router added. Idempotent. */
  dispose(): void;
}

export interface SignalRouterOptions {
  /** Whether process `pid` is in its terminal's foreground group (default: reads `/proc`). */
  isForeground?: (pid: number) => boolean;
  /** Told of every terminating signal (TERM, INT, HUP), the app running or not (`--status`). */
  onTerminating?: (signal: NodeJS.Signals) => void;
}

/**
 * Listens for every forwarded and terminal signal on `proc`. Install it
 * before binding anything: a listener is what keeps SIGTERM from killing linkfwd by default
 * (and, as PID 1, from being dropped), and SIGUSR1 from opening Node's inspector.
 *
 * It also listens, doing nothing, under the other names of the same signal numbers (SIGIOT
 * for SIGABRT, SIGPOLL for SIGIO). signal-exit listens under those names and, finding itself
 * the only listener, would fire the last-gasp hook and re-raise the signal, which would
 * reach the app a second time.
 */
export function installSignalRouter(
  proc: ProcessLike = process,
  options: SignalRouterOptions = {},
): SignalRouter {
  const isForeground = options.isForeground ?? isForegroundProcess;
  let child: ChildProcess | undefined;
  let pendingTermination: NodeJS.Signals | undefined;
  let resolveTerminated: (signal: NodeJS.Signals) => void = () => {};
  const terminated = new Promise<NodeJS.Signals>((resolve) => {
    resolveTerminated = resolve;
  });

  const receive = (signal: NodeJS.Signals) => {
    if (isTerminating(signal)) options.onTerminating?.(signal);
    if (child === undefined) {
      if (isTerminating(signal) && pendingTermination === undefined) {
        pendingTermination = signal;
        resolveTerminated(signal);
      } else {
        debug('%s ignored: no app running', signal);
      }
      return;
    }
    const pid = child.pid;
    // A key typed on the terminal signals its whole foreground group: it has reached the app
    // only if both are in it. If linkfwd is not, the signal was sent to linkfwd alone.
    const typed = pid !== undefined && isForeground(pid) && isForeground(proc.pid);
    if (!shouldForward(signal, typed)) {
      debug(
        "%s not forwarded: the app and linkfwd are in their terminal's foreground group",
        signal,
      );
      return;
    }
    forwardSignal(child, signal);
  };

  const listeners: [NodeJS.Signals, () => void][] = [];
  const signals = listenedSignals();
  for (const signal of signals) listeners.push([signal, () => receive(signal)]);
  for (const alias of new Set(signals.flatMap(signalAliases))) {
    if (!signals.includes(alias)) listeners.push([alias, () => {}]);
  }
  for (const [signal, listener] of listeners) proc.on(signal, listener);

  return {
    get pendingTermination() {
      return pendingTermination;
    },
    terminated,
    attach(next) {
      if (child !== undefined) throw new Error('a child is already attached');
      child = next;
    },
    dispose() {
      for (const [signal, listener] of listeners.splice(0)) proc.removeListener(signal, listener);
    },
  };
}

function forwardSignal(child: ChildProcess, signal: NodeJS.Signals): void {
  // A child that never started has no pid, and its handle's kill() would call kill(0, sig):
  // linkfwd's whole process group.
  if (child.pid === undefined) return;
  try {
    // false when the app has already exited (Node drops ESRCH): the signal is moot.
    const sent = child.kill(signal);
    debug('%s %s the app (pid %s)', signal, sent ? 'forwarded to' : 'not delivered to', child.pid);
  } catch (error) {
    debug('forwarding %s failed: %s', signal, describeSystemError(error));
  }
}
