/*
 * Unix-socket listeners (`-f unix:/path:HOST:PORT`): what lies at the path before listening,
 * and the socket's permissions after. The accept path and the data path are TCP's.
 */
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { connect, type Server } from 'node:net';
import { dirname } from 'node:path';
import { describeSystemError } from '../errors.js';
import { debugForward } from '../log.js';
import type { ListenFailure } from './listen.js';
import type { ForwarderOptions } from './settings.js';

/** How long a probe of an existing socket may take before it counts as live but stuck. */
const PROBE_TIMEOUT = 2000;

/**
 * Makes `path` free and listens on it. A socket nobody accepts on (left by a crashed run) is
 * removed; a live one, a regular file or a directory is never touched and is a failure naming
 * the path. A missing parent directory is created only with `options.mkdir`. With
 * `options.unixMode` the socket is chmod-ed once it listens: until then it has the umask's
 * permissions, as Node creates it. libuv removes the socket file when the server closes.
 */
export async function listenUnix(
  server: Server,
  path: string,
  options: ForwarderOptions,
): Promise<ListenFailure | undefined> {
  const fail = (why: string, cause?: unknown): ListenFailure => ({
    reason: `cannot listen on ${path}: ${why}`,
    cause,
  });
  try {
    const existing = await lstatOrUndefined(path);
    if (existing?.isDirectory() === true) return fail('it is a directory');
    if (existing !== undefined && !existing.isSocket())
      return fail('a file that is not a socket is there');
    if (existing !== undefined) {
      const live = await probe(path);
      if (live !== 'refused') return fail(live === 'live' ? 'a server is listening there' : live);
      debugForward('%s: removing a stale socket', path);
      await unlink(path);
    } else {
      const parent = dirname(path);
      const dir = await lstatOrUndefined(parent);
      if (dir === undefined && options.mkdir === true) {
        await mkdir(parent, { recursive: true });
      } else if (dir === undefined) {
        return fail(`directory ${parent} does not exist (--mkdir creates it)`);
      } else if (!dir.isDirectory()) {
        return fail(`${parent} is not a directory`);
      }
    }
  } catch (error) {
    return fail(describeSystemError(error), error);
  }
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ path }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    return fail(describeSystemError(error), error);
  }
  if (options.unixMode !== undefined) {
    try {
      await chmod(path, options.unixMode);
    } catch (error) {
      await new Promise((resolve) => server.close(resolve));
      return fail(`cannot set its mode: ${describeSystemError(error)}`, error);
    }
  }
  return undefined;
}

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** `refused`: a stale socket; `live`: something accepts; otherwise why it cannot be told. */
function probe(path: string): Promise<'refused' | 'live' | string> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    const done = (result: string) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(PROBE_TIMEOUT, () => done('a server there does not answer'));
    socket.once('connect', () => done('live'));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done(error.code === 'ECONNREFUSED' ? 'refused' : describeSystemError(error)),
    );
  });
}
