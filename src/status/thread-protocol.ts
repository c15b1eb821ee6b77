/**
 * The messages between the status stage on the main thread (server.ts) and the thread that
 * serves HTTP (http-thread.ts), and the health cells they share.
 */

/** The health cells (Int32, shared): where linkfwd is in its life, and whether its app runs. */
export const PHASE = 0;
export const APP = 1;
const CELLS = 2;

export const STARTING = 0;
export const RUNNING = 1;
export const STOPPING = 2;

/** `APP`: no app (forward-only mode, or not known yet), running, exited. */
const NO_APP = -1;
export const APP_RUNNING = 1;
export const APP_EXITED = 0;

/** Fresh health cells: starting, no app. */
export function newHealthCells(): Int32Array {
  const cells = new Int32Array(new SharedArrayBuffer(CELLS * 4));
  cells[PHASE] = STARTING;
  cells[APP] = NO_APP;
  return cells;
}

/** Why `/healthz` fails now, or `undefined` when it passes. */
export function healthProblem(cells: Int32Array): string | undefined {
  const phase = Atomics.load(cells, PHASE);
  if (phase === STARTING) return 'starting';
  if (phase === STOPPING) return 'shutting down';
  if (Atomics.load(cells, APP) === APP_EXITED) return 'the app is not running';
  return undefined;
}

/** The HTTP thread's `workerData`. */
export interface HttpThreadStart {
  host: string;
  port: number;
  /** The health cells. */
  health: SharedArrayBuffer;
  /** New connections taken on per second. */
  admitPerSecond: number;
}

/** What the main thread answers for: the routes whose state lives there. */
export type Question = 'metrics' | 'ready';

/** From the main thread. */
export type ToHttpThread =
  | { type: 'answer'; id: number; status: number; body: string; contentType?: string | undefined }
  | { type: 'close' };

/** From the HTTP thread. */
export type FromHttpThread =
  | { type: 'listening'; port: number }
  | { type: 'listen-failed'; code: string | undefined; message: string }
  | { type: 'ask'; id: number; question: Question }
  | { type: 'server-error'; code: string | undefined; message: string };
