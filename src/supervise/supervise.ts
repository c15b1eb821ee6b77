import { loadDebugIfWanted } from '../log.js';
import { type ChildOptions, type Supervised, superviseChild } from './child.js';
import { findSetpriv } from './parent-death.js';
import { installSignalRouter, type ProcessLike } from './signal-router.js';

export interface SuperviseOptions extends Omit<ChildOptions, 'router' | 'setpriv'> {
  /** The process whose signals are forwarded (default `process`; tests inject an emitter). */
  process?: ProcessLike;
}

/**
 * Runs `command` as linkfwd runs the app: no shell, the environment as given, stdio inherited,
 * every forwarded signal passed on once per delivery (README: "Signals and exit status"),
 * SIGTERM if the caller's process dies first — on Linux with util-linux's `setpriv`, even when
 * it is killed by SIGKILL. Its signal listeners are removed once
 * the app has exited. `exited` never rejects: a command that cannot be started resolves as
 * `{ kind: 'failed' }` with a {@link LinkfwdError} (127, 126 or 125); {@link exitStatusOf} maps
 * any outcome to a status.
 */
export function supervise(options: SuperviseOptions): Supervised {
  void loadDebugIfWanted();
  const router = installSignalRouter(options.process);
  const supervised = superviseChild({ ...options, router, setpriv: findSetpriv() });
  void supervised.exited.then(() => router.dispose());
  return supervised;
}
