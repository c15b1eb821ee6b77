/**
 * Every process the bench starts goes through here: each runs in its own process group
 * (`detached`), is recorded, and is killed by group on stop, on failure, on SIGINT/SIGTERM and,
 * as a last resort, synchronously on `exit`. A SIGKILL of the bench itself is the one case
 * that leaves children behind (Node has no PR_SET_PDEATHSIG).
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { basename } from 'node:path';
import { signalNumber } from '../test/helpers/proc.js';
import { dialError, waitFor } from '../test/helpers/sockets.js';

export interface Managed {
  name: string;
  child: ChildProcess;
  /** Resolves with the exit code (or 128+signal) once the process has exited. */
  exited: Promise<number>;
  /** Resolves true when the process had to be SIGKILLed (it ignored the stop signal). */
  stop(): Promise<boolean>;
}

const live = new Set<Managed>();
let manifestPath: string | undefined;
let closed = false;

/** Appends `pid <n> <name>` / `port <host>:<port>` lines here so a test can check the cleanup. */
export function setManifest(path: string | undefined): void {
  manifestPath = path;
}

export function recordPort(host: string, port: number): void {
  if (manifestPath !== undefined) appendFileSync(manifestPath, `port ${host}:${port}\n`);
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/**
 * Spawns `command` in its own process group. `stop()` sends `stopSignal` to the group, then
 * SIGKILL after `graceMs`, and resolves once the leader has exited.
 */
export function start(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions & { stopSignal?: NodeJS.Signals; graceMs?: number } = {},
): Managed {
  const { stopSignal = 'SIGTERM', graceMs = 3000, ...spawnOptions } = options;
  // After a SIGINT the measurement still in flight may try to start the next tool.
  if (closed) throw new Error(`not starting ${name}: the bench is stopping`);
  const child = spawn(command, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    ...spawnOptions,
    detached: true,
  });
  const exited = new Promise<number>((resolve) => {
    child.once('error', () => resolve(127));
    child.once('exit', (code, signal) =>
      resolve(code ?? 128 + (signal ? signalNumber(signal) : 0)),
    );
  });
  const managed: Managed = {
    name,
    child,
    exited,
    async stop() {
      let forced = false;
      if (child.exitCode === null && child.signalCode === null) {
        killGroup(child.pid, stopSignal);
        const timer = setTimeout(() => {
          forced = true;
          killGroup(child.pid, 'SIGKILL');
        }, graceMs);
        await exited;
        clearTimeout(timer);
      }
      // Forked helpers (socat's per-connection children) may outlive the leader.
      killGroup(child.pid, 'SIGKILL');
      live.delete(managed);
      return forced;
    },
  };
  live.add(managed);
  if (manifestPath !== undefined && child.pid !== undefined) {
    appendFileSync(manifestPath, `pid ${child.pid} ${name}\n`);
  }
  return managed;
}

/** Stops every process still running and refuses to start new ones. */
export async function shutdown(): Promise<void> {
  closed = true;
  await Promise.all([...live].map((m) => m.stop()));
}

process.on('exit', () => {
  for (const m of live) killGroup(m.child.pid, 'SIGKILL');
});

/** Collects a process's stderr (bounded) so a failure can say what the tool printed. */
export function stderrOf(m: Managed, limit = 4000): () => string {
  let text = '';
  m.child.stderr?.on('data', (chunk: Buffer) => {
    if (text.length < limit) text += chunk.toString();
  });
  return () => text.trim().slice(0, limit);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs a command to completion in its own process group; kills the group on timeout. */
export async function runCommand(
  command: string,
  args: readonly string[],
  options: SpawnOptions & { timeoutMs: number },
): Promise<RunResult> {
  const { timeoutMs, ...spawnOptions } = options;
  const m = start(basename(command), command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...spawnOptions,
    graceMs: 1000,
  });
  let stdout = '';
  let stderr = '';
  m.child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  m.child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void m.stop();
  }, timeoutMs);
  const code = await m.exited;
  clearTimeout(timer);
  await m.stop();
  return { code, stdout, stderr, timedOut };
}

/**
 * Polls until host:port accepts or the deadline passes; fails early when `m` exits first,
 * with what it printed on stderr.
 */
export async function waitForPort(
  host: string,
  port: number,
  timeoutMs: number,
  m?: Managed,
  stderr?: () => string,
): Promise<void> {
  let exited: number | undefined;
  void m?.exited.then((code) => {
    exited = code;
  });
  await waitFor(
    `${m?.name ?? 'server'} to accept on ${host}:${port}`,
    async () => {
      if (exited !== undefined) {
        throw new Error(
          `${m?.name} exited with ${exited} before ${host}:${port} accepted: ${stderr?.() ?? ''}`,
        );
      }
      return (await dialError(port, host, 500)) === undefined;
    },
    timeoutMs,
    25,
  );
}
