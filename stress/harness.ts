import type { Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { linkfwdCommand } from '../test/helpers/cli.js';
import { childPids, isAlive, listeningPorts } from '../test/helpers/proc.js';
import { type Running, startLinkfwd } from '../test/helpers/process.js';
import { waitFor } from '../test/helpers/sockets.js';

/** linkfwd running, its pid known. */
export interface Linkfwd extends Running {
  pid: number;
}

/**
 * Starts the built CLI (`startLinkfwd`) and resolves once every port in `ports` listens
 * (read from `/proc/net/tcp`, so no connection is made to find out). Fails with linkfwd's
 * stderr if it exits first.
 */
export async function startListening(
  t: TestContext,
  args: readonly string[],
  ports: readonly number[],
  options: Parameters<typeof startLinkfwd>[2] = {},
): Promise<Linkfwd> {
  let pid: number | undefined;
  // Registered first, so it runs before startLinkfwd's SIGKILL (after hooks run in order): an
  // app orphaned by that SIGKILL would keep the test's pipes, and so the test, alive.
  t.after(() => {
    if (pid === undefined || !isAlive(pid)) return;
    for (const child of childPids(pid)) process.kill(child, 'SIGKILL');
  });
  const linkfwd = startLinkfwd(t, args, options);
  pid = linkfwd.child.pid;
  let exited = false;
  void linkfwd.exited.then(() => {
    exited = true;
  });
  await waitFor(
    `linkfwd to listen on ${ports.join(', ')}`,
    () => {
      if (exited) throw new Error(`linkfwd exited early: ${linkfwd.stderr}`);
      const listening = listeningPorts();
      return ports.every((port) => listening.has(port));
    },
    15_000,
  );
  return Object.assign(linkfwd, { pid: linkfwd.child.pid ?? 0 });
}

/** Resolves on the socket's next `drain` or its `close`, whichever comes first. */
function drainOrClose(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/**
 * Writes `chunk` over and over, with backpressure, until `limit` bytes were written or the
 * socket is destroyed. `progress` is called with the total each time the kernel has taken a
 * chunk. Resolves with the bytes the kernel took.
 */
export async function writeUntilClosed(
  socket: Socket,
  chunk: Buffer,
  limit = Number.POSITIVE_INFINITY,
  progress: (taken: number) => void = () => {},
): Promise<number> {
  let taken = 0;
  for (let written = 0; written < limit && !socket.destroyed; written += chunk.length) {
    const ok = socket.write(chunk, (error) => {
      if (error) return;
      taken += chunk.length;
      progress(taken);
    });
    if (!ok) await drainOrClose(socket);
  }
  return taken;
}

/** Runs `count` jobs, `concurrency` at a time; `job` gets the job's index. */
export async function pool(
  count: number,
  concurrency: number,
  job: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/**
 * linkfwd in a mount namespace of its own where `/etc/hosts` and `/etc/nsswitch.conf` are the
 * given files (bind mounts, so rewriting a file in place changes what linkfwd resolves, and
 * with `hosts: files` no lookup ever leaves the machine). The helper shell only mounts and
 * exec()s: linkfwd keeps its pid.
 */
export function privateResolverCommand(
  hosts: string,
  nsswitch: string,
  command = linkfwdCommand(),
): { file: string; args: string[] } {
  const script =
    'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/nsswitch.conf && shift 2 && exec "$@"';
  return {
    file: 'unshare',
    args: [
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      script,
      'sh',
      hosts,
      nsswitch,
      command.file,
      ...command.args,
    ],
  };
}

/**
 * linkfwd in a network namespace of its own that has only a loopback interface: whatever it
 * binds, even `0.0.0.0`, is reachable from nowhere. Same pid as linkfwd.
 */
export function privateNetworkCommand(command = linkfwdCommand()): {
  file: string;
  args: string[];
} {
  return {
    file: 'unshare',
    args: [
      '--net',
      '--',
      'sh',
      '-c',
      'ip link set lo up && exec "$@"',
      'sh',
      command.file,
      ...command.args,
    ],
  };
}

export const seconds = (ms: number) => ms / 1000;
