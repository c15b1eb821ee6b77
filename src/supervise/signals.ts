import { readFileSync } from 'node:fs';
import { constants } from 'node:os';

/**
 * The signal policy (README: "Signals and exit status"): which signals linkfwd listens for and which it passes on to
 * the app. Only {@link isForegroundProcess} touches the system (it reads `/proc`).
 */

/** Forwarded to the app once per delivery, always. */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGTERM',
  'SIGHUP',
  'SIGUSR1',
  'SIGUSR2',
  'SIGALRM',
  'SIGPWR',
  'SIGCONT',
  'SIGURG',
  'SIGVTALRM',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGIO',
  'SIGABRT',
  'SIGTRAP',
  'SIGSYS',
];

/**
 * Forwarded unless the app and linkfwd are in their terminal's foreground process group: then
 * the terminal may have delivered a keystroke's signal to both, and forwarding it would deliver
 * a second. (A signal sent to linkfwd alone then stays with linkfwd: README "Running as PID 1".)
 */
export const TERMINAL_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGQUIT', 'SIGWINCH'];

/** End linkfwd while no app runs (before the spawn, or in forward-only mode). */
export const TERMINATING_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/**
 * Never listened for: job control must stop linkfwd and the app alike (SIGTSTP, SIGTTIN,
 * SIGTTOU), SIGCHLD and SIGPIPE are Node's own business, faults cannot be handled in
 * JavaScript, SIGPROF belongs to profilers, SIGKILL and SIGSTOP cannot be caught.
 */
export const UNHANDLED_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGTSTP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGCHLD',
  'SIGPIPE',
  'SIGSEGV',
  'SIGBUS',
  'SIGFPE',
  'SIGILL',
  'SIGPROF',
  'SIGKILL',
  'SIGSTOP',
];

const SIGNAL_NUMBERS: Readonly<Record<string, number | undefined>> = constants.signals;

/** Whether this platform knows the signal (SIGPWR, SIGIO are not everywhere). */
export function isSignalSupported(name: string): name is NodeJS.Signals {
  return SIGNAL_NUMBERS[name] !== undefined;
}

/**
 * The platform's number for a signal name (`SIGTERM` → 15).
 * @throws {TypeError} for a name this platform does not know.
 */
export function signalNumber(name: NodeJS.Signals): number {
  const number = SIGNAL_NUMBERS[name];
  if (number === undefined) throw new TypeError(`unknown signal: ${name}`);
  return number;
}

/**
 * Every signal linkfwd listens for on this platform: the forwarded and terminal ones that
 * exist here, in policy order.
 */
export function listenedSignals(): NodeJS.Signals[] {
  return [...FORWARDED_SIGNALS, ...TERMINAL_SIGNALS].filter(isSignalSupported);
}

/**
 * Other names of the same signal number on this platform (Linux: SIGABRT → SIGIOT,
 * SIGIO → SIGPOLL). Node emits a delivery under every name someone listens on.
 */
export function signalAliases(name: NodeJS.Signals): NodeJS.Signals[] {
  const number = SIGNAL_NUMBERS[name];
  if (number === undefined) return [];
  return Object.keys(SIGNAL_NUMBERS).filter(
    (other): other is NodeJS.Signals => other !== name && SIGNAL_NUMBERS[other] === number,
  );
}

/** Whether a signal received while no app runs ends linkfwd. */
export function isTerminating(signal: NodeJS.Signals): boolean {
  return TERMINATING_SIGNALS.includes(signal);
}

/**
 * Whether a signal received by linkfwd is passed on to the app. `isChildForeground`: the app,
 * and linkfwd with it, are in their terminal's foreground process group (see
 * {@link isForegroundProcess}).
 */
export function shouldForward(signal: NodeJS.Signals, isChildForeground: boolean): boolean {
  if (TERMINAL_SIGNALS.includes(signal)) return !isChildForeground;
  return FORWARDED_SIGNALS.includes(signal);
}

/** The fields of a `/proc/<pid>/stat` line the terminal rule needs. */
export interface ProcStat {
  /** Process group id (field 5). */
  pgrp: number;
  /** Foreground process group of the controlling terminal (field 8); -1 without one. */
  tpgid: number;
}

/**
 * Parses a Linux `/proc/<pid>/stat` line. The command name (field 2) is in parentheses and
 * may itself contain spaces and parentheses, so the fields are split after the *last* `)`.
 * Returns `undefined` for anything that does not look like a stat line.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close === -1) return undefined;
  // After the name: state ppid pgrp session tty_nr tpgid ...
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const pgrp = Number(fields[2]);
  const tpgid = Number(fields[5]);
  if (fields[5] === undefined || !Number.isInteger(pgrp) || !Number.isInteger(tpgid)) {
    return undefined;
  }
  return { pgrp, tpgid };
}

/**
 * Whether process `pid` is in the foreground process group of its controlling terminal
 * (pgrp == tpgid in `/proc/<pid>/stat`). `false` without a terminal, and wherever `/proc`
 * cannot be read (other platforms, the process is gone): the signal is then forwarded.
 */
export function isForegroundProcess(pid: number): boolean {
  let text: string;
  try {
    // Synchronous on purpose: the answer decides what happens to the signal being handled.
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  const stat = parseProcStat(text);
  return stat !== undefined && stat.tpgid > 0 && stat.pgrp === stat.tpgid;
}
