import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Dying with linkfwd. signal-exit's hook sends the app SIGTERM when linkfwd exits or dies of a
 * signal it can catch; nothing in linkfwd runs when it is killed by SIGKILL (the OOM killer),
 * SIGSEGV and the like. For those, Linux has `prctl(PR_SET_PDEATHSIG)`: the kernel signals a
 * process when its parent dies, and the setting survives `execve`. Node cannot run code
 * between fork and exec, so the app is started through util-linux's `setpriv --pdeathsig`,
 * which sets it and then execs the app (same pid, same argv, same environment).
 */

/** The signal the app receives when linkfwd dies, as `setpriv --pdeathsig` names it. */
export const PARENT_DEATH_SIGNAL = 'TERM';

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'];

/** Where `setpriv` is, or `undefined` (not Linux, or util-linux's setpriv is not installed). */
export function findSetpriv(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  return SETPRIV.find(isExecutableFile);
}

/**
 * The error `execvp(command)` would fail with in an environment whose `PATH` is `path`, or
 * `undefined` if it would find something to run. With a trampoline in front, the trampoline's
 * own exec would report it, in its own words: linkfwd checks first to report it in its own.
 */
export function execError(
  command: string,
  path: string | undefined,
): NodeJS.ErrnoException | undefined {
  if (command.includes('/')) return fileError(command);
  let denied: NodeJS.ErrnoException | undefined;
  // glibc's execvp default when PATH is unset.
  for (const dir of (path ?? '/bin:/usr/bin').split(delimiter)) {
    const error = fileError(join(dir === '' ? '.' : dir, command));
    if (error === undefined) return undefined;
    if (error.code === 'EACCES') denied ??= error;
  }
  return denied ?? errno('ENOENT', command);
}

function fileError(file: string): NodeJS.ErrnoException | undefined {
  try {
    // execve() refuses a directory with EACCES (supervise/child.ts then says EISDIR).
    if (statSync(file).isDirectory()) return errno('EACCES', file);
    accessSync(file, constants.X_OK);
    return undefined;
  } catch (error) {
    return Object.assign(new Error(`spawn ${file} ${(error as NodeJS.ErrnoException).code}`), {
      code: (error as NodeJS.ErrnoException).code,
      syscall: `spawn ${file}`,
      path: file,
    });
  }
}

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function errno(code: string, file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`spawn ${file} ${code}`), {
    code,
    syscall: `spawn ${file}`,
    path: file,
  });
}
