import { ChildProcess, spawn as nodeSpawn, type StdioOptions } from 'node:child_process';
import { statSync } from 'node:fs';
import { onExit } from 'signal-exit';
import { describeSystemError } from './errors.js';
import type { ChildOutcome } from './exit-status.js';
import { debugSupervisor as debug, type Logger, silentLogger } from './log.js';
import {
  isForegroundProcess,
  isTerminating,
  listenedSignals,
  shouldForward,
  signalAliases,
} from './signals.js';

export type { ChildOutcome } from './exit-status.js';

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
   * pending once one is. Other signals received then are ignored (SPEC §5.6).
   */
  readonly terminated: Promise<NodeJS.Signals>;
  /**
   * From now on each forwarded signal goes to `child` once per delivery (SPEC §5.3). Signals
   * arriving after it exited are dropped. One child per router.
   */
  attach(child: ChildProcess): void;
  /** Removes every listener the router added. Idempotent. */
  dispose(): void;
}

export interface SignalRouterOptions {
  /** Whether process `pid` is in its terminal's foreground group (default: reads `/proc`). */
  isForeground?: (pid: number) => boolean;
}

/**
 * Listens for every forwarded and terminal signal on `proc` (SPEC §5.1, §5.3). Install it
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
    if (!shouldForward(signal, pid !== undefined && isForeground(pid))) {
      debug("%s not forwarded: the app is in its terminal's foreground group", signal);
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

export interface SuperviseOptions {
  command: string;
  args: string[];
  /** The app's whole environment, passed as is. */
  env: NodeJS.ProcessEnv;
  /** Installed before; the child is attached to it. */
  router: SignalRouter;
  /** Replaces `child_process.spawn` (tests). */
  spawn?: typeof nodeSpawn;
  logger?: Logger;
  /** Default `'inherit'`, as SPEC §5.2 requires; tests pipe. */
  stdio?: StdioOptions;
}

export interface Supervised {
  /** The app. Has no `pid` when it could not be started. */
  readonly child: ChildProcess;
  /**
   * Resolves when the app has exited — on its `exit` event, not `close`: a grandchild still
   * holding the inherited stdio must not keep linkfwd alive — or could not be started
   * (`error` set; give it to `commandError`). Never rejects.
   */
  readonly exited: Promise<ChildOutcome>;
}

/**
 * Starts the app (SPEC §5.2: no shell, not detached, cwd inherited, `env` as given), attaches
 * it to the router and, until it exits, keeps a last-gasp hook (signal-exit) that sends it
 * SIGTERM if linkfwd dies first (SPEC §5.8).
 */
export function superviseChild(options: SuperviseOptions): Supervised {
  const { command, args, router } = options;
  const logger = options.logger ?? silentLogger;
  const spawn = options.spawn ?? nodeSpawn;
  let child: ChildProcess;
  let spawnError: NodeJS.ErrnoException | undefined;
  try {
    child = spawn(command, args, {
      stdio: options.stdio ?? 'inherit',
      shell: false,
      detached: false,
      env: options.env,
    });
  } catch (error) {
    // Errors other than EACCES/ENOENT/EAGAIN/EMFILE/ENFILE (ENOTDIR, ENAMETOOLONG, an empty
    // command) are thrown by Node rather than emitted.
    spawnError = toErrnoException(error);
    child = new UnstartedChild();
  }
  router.attach(child);

  let removeExitHook: (() => void) | undefined;
  const exited = new Promise<ChildOutcome>((resolve) => {
    const settle = (outcome: ChildOutcome) => {
      removeExitHook?.();
      removeExitHook = undefined;
      resolve(outcome);
    };
    if (spawnError !== undefined) {
      settle({ code: null, signal: null, error: explainSpawnError(command, spawnError) });
      return;
    }
    child.once('exit', (code, signal) => settle({ code, signal }));
    child.on('error', (error: NodeJS.ErrnoException) => {
      // Without a pid the spawn failed (and no `exit` follows); with one, a kill() did (EPERM).
      if (child.pid === undefined) {
        settle({ code: null, signal: null, error: explainSpawnError(command, error) });
      } else {
        logger.warn(`cannot send a signal to the app: ${describeSystemError(error)}`);
      }
    });
  });
  if (child.pid !== undefined) {
    debug('started %s (pid %d)', command, child.pid);
    removeExitHook = onExit(() => {
      try {
        child.kill('SIGTERM');
      } catch {
        // linkfwd is going down; nothing is left to tell.
      }
    });
  }
  return { child, exited };
}

/** Stands in for a child that spawn() refused to start: no pid, and nothing to signal. */
class UnstartedChild extends ChildProcess {
  // ChildProcess's own kill() on a never-spawned handle signals pid 0: our process group.
  override kill(): boolean {
    return false;
  }
}

function toErrnoException(error: unknown): NodeJS.ErrnoException {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * exec() reports a directory as EACCES; say EISDIR, as the shell does, when the command is a
 * path to one. The kernel's error stays the `cause`.
 */
function explainSpawnError(command: string, error: NodeJS.ErrnoException): NodeJS.ErrnoException {
  if (error.code !== 'EACCES' || !command.includes('/') || !isDirectory(command)) return error;
  return Object.assign(new Error(`spawn ${command} EISDIR`, { cause: error }), {
    code: 'EISDIR',
    syscall: error.syscall,
    path: command,
  });
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
