import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import { cleanEnv, linkfwdCommand } from './cli.js';
import { REMOTE, waitFor } from './sockets.js';

export const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;

/** A fixture program's argv: `['node', '/…/fixtures/NAME', ...args]`. */
export function fixture(name: string, ...args: string[]): string[] {
  return [process.execPath, `${FIXTURES}${name}`, ...args];
}

/** A running linkfwd with its output collected. */
export interface Running {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the exit status and signal once linkfwd has exited. */
  exited: Promise<{ status: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** Waits until stdout has a line matching `pattern` (default 10 s). */
  waitForStdout(pattern: RegExp, timeout?: number): Promise<void>;
  waitForStderr(pattern: RegExp, timeout?: number): Promise<void>;
  /** The lines of stdout so far. */
  lines(): string[];
}

/**
 * Starts linkfwd as a user would (the built bin, or the single executable) with `env` as its
 * whole environment and stdio piped. Killed with SIGKILL after the test if still running.
 */
export function startLinkfwd(
  t: TestContext,
  args: readonly string[],
  options: { env?: Record<string, string>; command?: { file: string; args: string[] } } = {},
): Running {
  const { file, args: prefix } = options.command ?? linkfwdCommand();
  const child = spawn(file, [...prefix, ...args], {
    env: options.env ?? cleanEnv(),
    stdio: 'pipe',
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ status: number | null; signal: NodeJS.Signals | null; at: number }>(
    (resolve) => child.on('exit', (status, signal) => resolve({ status, signal, at: Date.now() })),
  );
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const running: Running = {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    waitForStdout: (pattern, timeout = 10_000) =>
      waitFor(
        `stdout ${pattern} (stdout: ${JSON.stringify(stdout)}, stderr: ${JSON.stringify(stderr)})`,
        () => pattern.test(stdout),
        timeout,
      ),
    waitForStderr: (pattern, timeout = 10_000) =>
      waitFor(
        `stderr ${pattern} (stderr: ${JSON.stringify(stderr)})`,
        () => pattern.test(stderr),
        timeout,
      ),
    lines: () => stdout.split('\n').filter((line) => line !== ''),
  };
  return running;
}

/** Resolves after `ms`, rejecting with a message naming `what` — a deadline for `promise`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves with the first line `child` writes to its stdout (a pipe) that matches `pattern`.
 * Fails naming `what` (and `details()`, e.g. its stderr) when the child exits first or after
 * `timeout` ms. Reading goes on afterwards, so a chatty child never blocks on a full pipe.
 */
export function waitForLine(
  child: ChildProcess,
  pattern: RegExp,
  timeout: number,
  what: string,
  details: () => string = () => '',
): Promise<string> {
  const stdout = child.stdout;
  if (stdout === null) return Promise.reject(new Error(`${what}: stdout is not a pipe`));
  return new Promise((resolve, reject) => {
    let partial = '';
    const onData = (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      const line = lines.find((l) => pattern.test(l));
      if (line !== undefined) finish(() => resolve(line));
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      finish(() => reject(new Error(`${what}: exited (${code ?? signal}) first ${details()}`)));
    const timer = setTimeout(
      () => finish(() => reject(new Error(`${what}: not within ${timeout} ms ${details()}`))),
      timeout,
    );
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      stdout.off('data', onData);
      child.off('exit', onExit);
      stdout.resume();
      settle();
    };
    stdout.on('data', onData);
    child.once('exit', onExit);
  });
}

/** The upstream program (`fixtures/upstream.mjs`), run as `node upstream.mjs MODE HOST PORT`. */
export const UPSTREAM_PROGRAM = `${FIXTURES}upstream.mjs`;

/** What an upstream process does with its connections (see `fixtures/upstream.mjs`). */
export type UpstreamMode = 'echo' | 'never-read' | 'sink';

/** An upstream server in a process of its own (`fixtures/upstream.mjs`). */
export interface Upstream {
  child: ChildProcess;
  port: number;
  /** Resolves once the process has exited. */
  exited: Promise<void>;
}

/**
 * Starts `fixtures/upstream.mjs MODE HOST PORT` and resolves once it listens. Killed with
 * SIGKILL after the test if still running (and it exits by itself when its stdin closes).
 */
export async function startUpstream(
  t: TestContext,
  mode: UpstreamMode,
  port = 0,
  host = REMOTE,
): Promise<Upstream> {
  const child = spawn(process.execPath, [UPSTREAM_PROGRAM, mode, host, String(port)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const line = await waitForLine(child, /^listening \d+$/, 10_000, `the upstream (${mode})`);
  return { child, port: Number(line.split(' ')[1]), exited };
}

/** How long to wait for a real process to say something. */
export const LINE_WAIT = 8_000;

/** Collects a stream's lines as they arrive (a pty's `\r\n` too); `ended` once it closes. */
export function collectLines(stream: NodeJS.ReadableStream | null | undefined) {
  assert.ok(stream, 'a piped stream');
  const lines: string[] = [];
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (rest + chunk).split(/\r?\n/);
    rest = parts.pop() ?? '';
    lines.push(...parts);
  });
  const ended = once(stream, 'end').then(() => lines);
  return { lines, ended };
}

/** Waits until `lines` (of {@link collectLines}) holds `line` (`count` times). */
export function waitForLineIn(lines: string[], line: string, count = 1): Promise<void> {
  return waitFor(
    `${count} × ${line} in ${JSON.stringify(lines)}`,
    () => lines.filter((l) => l === line).length >= count,
    LINE_WAIT,
  );
}

/** Whether process `pid` exists (a zombie too: unlike proc.ts' `isAlive`, no `/proc` read). */
export function canSignal(pid: number): boolean {
  // kill(0) and kill(-1) would reach the test runner's own group.
  assert.ok(Number.isInteger(pid) && pid > 1, `a pid: ${pid}`);
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
