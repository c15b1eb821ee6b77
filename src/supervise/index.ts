/**
 * The supervising stage: the app's process, the signal policy and router, exit statuses.
 * Processes and signals only: it opens no socket.
 */
export type { Supervised } from './child.js';
export { superviseChild } from './child.js';
export type { ChildOutcome } from './exit-status.js';
export { exitStatusOf } from './exit-status.js';
export { findSetpriv } from './parent-death.js';
export type { ProcessLike } from './signal-router.js';
export { installSignalRouter } from './signal-router.js';
export { signalNumber } from './signals.js';
export type { SuperviseOptions } from './supervise.js';
export { supervise } from './supervise.js';
