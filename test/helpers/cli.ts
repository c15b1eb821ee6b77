import { type ChildProcessByStdio, type SpawnOptions, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitFor } from './sockets.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** This checkout's `examples/` folder. */
export const EXAMPLES = join(ROOT, 'examples');

/** A file of this checkout (`path` relative to {@link ROOT}) as text. */
export function readRepoFile(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

/**
 * The single executable under test: `LINKFWD_BINARY` if set (a binary built elsewhere), else
 * `build/linkfwd` as `npm run build:binary` writes it.
 */
export function binaryPath(): string {
  return process.env.LINKFWD_BINARY || `${ROOT}build/linkfwd`;
}

/**
 * The npm bin of the checkout in `dir` as its package.json names it (`dist/linkfwd.cjs`, built
 * by `npm run build`): what `linkfwd` runs after `npm install`.
 */
export function npmBin(dir = ROOT): string {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    bin: { linkfwd: string };
  };
  return join(dir, manifest.bin.linkfwd);
}

/** This checkout's npm bin ({@link npmBin}). */
export const NPM_BIN = npmBin();

/**
 * How to start linkfwd as a user would: the built npm bin (`node dist/linkfwd.cjs`), or the
 * single executable (`binaryPath()`) when `LINKFWD_TARGET=binary`.
 */
export function linkfwdCommand(): { file: string; args: string[] } {
  if (process.env.LINKFWD_TARGET === 'binary') return { file: binaryPath(), args: [] };
  return { file: process.execPath, args: [NPM_BIN] };
}

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A minimal environment: no link variables or LINKFWD_* from the machine running the tests. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', ...extra };
}

/** Runs linkfwd to completion with `env` as its whole environment; kills it after `timeout` ms. */
export function runCli(
  args: readonly string[],
  options: { env?: Record<string, string>; input?: string; timeout?: number } & SpawnOptions = {},
): Promise<CliResult> {
  const { file, args: prefix } = linkfwdCommand();
  return runProgram(file, [...prefix, ...args], options);
}

/**
 * Starts linkfwd in forward-only mode with `args` and a clean environment, under `prlimit
 * --nofile=N` if `nofile` is given; resolves once it says it is forwarding. Killed after the test.
 */
export async function startForwardOnly(
  t: TestContext,
  args: readonly string[],
  nofile?: number,
): Promise<{ child: ChildProcessByStdio<null, null, Readable>; stderr: () => string }> {
  const { file, args: prefix } = linkfwdCommand();
  const command = [file, ...prefix, ...args];
  const [program, ...rest] =
    nofile === undefined ? command : ['prlimit', `--nofile=${nofile}`, ...command];
  const child = spawn(program ?? file, rest, {
    env: cleanEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  t.after(() => child.kill('SIGKILL'));
  await waitFor('linkfwd listening', () => stderr.includes('linkfwd: forwarding'), 10_000);
  return { child, stderr: () => stderr };
}

/** Runs any program to completion, like {@link runCli}: `env` is its whole environment. */
export function runProgram(
  file: string,
  args: readonly string[],
  options: { env?: Record<string, string>; input?: string; timeout?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? cleanEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeout ?? 20_000,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
