import { type ChildProcess, spawn } from 'node:child_process';
import type { TestContext } from 'node:test';
import { cleanEnv, linkfwdCommand } from './cli.js';
import { waitFor } from './sockets.js';

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
  mode: 'echo' | 'never-read',
  port = 0,
  host = '127.0.0.2',
): Promise<Upstream> {
  const [file = '', ...args] = fixture('upstream.mjs', mode, host, String(port));
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let stdout = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  await waitFor(`the upstream (${mode}) to listen`, () => /listening \d+\n/.test(stdout), 10_000);
  return { child, port: Number(/listening (\d+)/.exec(stdout)?.[1]), exited };
}
