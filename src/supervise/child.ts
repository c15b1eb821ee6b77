import { ChildProcess, spawn as nodeSpawn, type StdioOptions } from 'node:child_process';
import { statSync } from 'node:fs';
import { onExit } from 'signal-exit';
import { describeSystemError } from '../errors.js';
import { debugSupervisor as debug, type Logger, silentLogger } from '../log.js';
import { type ChildOutcome, commandError } from './exit-status.js';
import { execError, PARENT_DEATH_SIGNAL } from './parent-death.js';
import type { SignalRouter } from './signal-router.js';

export interface ChildOptions {
  command: string;
  args: string[];
  /** The app's whole environment, passed as is. */
  env: NodeJS.ProcessEnv;
  /** Installed before; the child is attached to it. */
  router: SignalRouter;
  /** Replaces `child_process.spawn` (tests). */
  spawn?: typeof nodeSpawn;
  logger?: Logger;
  /** Default `'inherit'`: the app owns the terminal; tests pipe. */
  stdio?: StdioOptions;
  /**
   * `setpriv`'s path: the app is started through `setpriv --pdeathsig TERM` so that the kernel
   * sends it SIGTERM if linkfwd is killed (supervise/parent-death.ts). Default: none.
   */
  setpriv?: string | undefined;
}

export interface Supervised {
  /** The app. Has no `pid` when it could not be started. */
  readonly child: ChildProcess;
  /**
   * Resolves when the app has exited — on its `exit` event, not `close`: a grandchild still
   * holding the inherited stdio must not keep linkfwd alive — or could not be started
   * (`kind: 'failed'`). Never rejects.
   */
  readonly exited: Promise<ChildOutcome>;
}

/**
 * Starts the app (no shell, not detached, cwd inherited, `env` as given) and attaches it to a
 * router installed before. If linkfwd dies first, the app gets SIGTERM: from the kernel when it
 * is started through `setpriv`, else from a last-gasp hook (signal-exit) while it runs.
 */
export function superviseChild(options: ChildOptions): Supervised {
  const { command, args, router } = options;
  const logger = options.logger ?? silentLogger;
  const spawn = options.spawn ?? nodeSpawn;
  let child: ChildProcess;
  let spawnError: NodeJS.ErrnoException | undefined;
  const { setpriv } = options;
  try {
    spawnError = setpriv === undefined ? undefined : execError(command, options.env.PATH);
    if (spawnError !== undefined) throw spawnError;
    const [file, argv] =
      setpriv === undefined
        ? [command, args]
        : [setpriv, ['--pdeathsig', PARENT_DEATH_SIGNAL, '--', command, ...args]];
    child = spawn(file, argv, {
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
    const failed = (error: NodeJS.ErrnoException) =>
      settle({ kind: 'failed', error: commandError(command, explainSpawnError(command, error)) });
    if (spawnError !== undefined) {
      failed(spawnError);
      return;
    }
    // Node gives one of the two on every exit.
    child.once('exit', (code, signal) =>
      settle(code !== null ? { kind: 'exited', code } : { kind: 'killed', signal: signal! }),
    );
    child.on('error', (error: NodeJS.ErrnoException) => {
      // Without a pid the spawn failed (and no `exit` follows); with one, a kill() did (EPERM).
      if (child.pid === undefined) {
        failed(error);
      } else {
        logger.warn(`cannot send a signal to the app: ${describeSystemError(error)}`);
      }
    });
  });
  if (child.pid !== undefined) {
    debug('started %s (pid %d)', command, child.pid);
  }
  // Without setpriv's parent-death signal, a last-gasp hook sends SIGTERM where linkfwd can
  // still run code as it dies; with it, the kernel does, and a second SIGTERM must not follow.
  if (child.pid !== undefined && setpriv === undefined) {
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
