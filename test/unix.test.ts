import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { LinkfwdError } from '../src/errors.js';
import { startForwarder } from '../src/forward/forwarder.js';
import type { ForwarderOptions } from '../src/forward/settings.js';
import type { PlannedForward } from '../src/plan/index.js';
import type { Endpoint } from '../src/plan/spec.js';
import { observe, REMOTE, serve, sha256, waitFor } from './helpers/sockets.js';

const quick = { timeout: 20_000 };
const MiB = 1024 * 1024;

function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'linkfwd-unix-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function planned(path: string, target: Endpoint): PlannedForward {
  const origin = `unix:${path}:${target.host}:${target.port}`;
  return { listen: [], target, origin, source: 'flag', explicit: true, unix: path };
}

async function forwardUnix(
  t: TestContext,
  path: string,
  port: number,
  options: ForwarderOptions = {},
) {
  const forwarder = await startForwarder(planned(path, { host: REMOTE, port }), options);
  t.after(() => forwarder.close());
  return forwarder;
}

/** A client of the Unix socket at `path`, destroyed after the test. */
function dialPath(t: TestContext, path: string, allowHalfOpen = false): Socket {
  const socket = connect({ path, allowHalfOpen });
  socket.on('error', () => {});
  t.after(() => {
    socket.destroy();
  });
  return socket;
}

const listenFailure = (pattern: RegExp) => (error: unknown) =>
  error instanceof LinkfwdError &&
  error.code === 'ERR_LINKFWD_LISTEN' &&
  error.exitStatus === 125 &&
  pattern.test(error.message);

for (const acceptPath of ['fast', 'fallback'] as const) {
  describe(`Unix-socket listeners: behaviour (${acceptPath} accept path)`, () => {
    test(
      '32 MiB each way at once, byte-exact; stats; the socket file goes on close',
      quick,
      async (t) => {
        const target = await serve(t, (socket) => socket.pipe(socket));
        const path = join(scratch(t), 'db.sock');
        const forwarder = await forwardUnix(t, path, target.port, { acceptPath });
        assert.equal(forwarder.acceptPath, acceptPath);
        assert.ok(lstatSync(path).isSocket());
        const data = randomBytes(32 * MiB);
        const client = dialPath(t, path);
        const seen = observe(client);
        client.end(data);
        const outcome = await seen;
        assert.deepEqual(
          [outcome.sha256, outcome.ended, outcome.error],
          [sha256(data), true, undefined],
        );
        await waitFor('released', () => forwarder.stats().active === 0);
        const stats = forwarder.stats();
        assert.deepEqual([stats.accepted, stats.bytesIn, stats.bytesOut], [1, 32 * MiB, 32 * MiB]);
        await forwarder.close();
        assert.equal(existsSync(path), false, 'close removes the socket file');
      },
    );

    test('half-close: a client that end()s still gets the whole reply', quick, async (t) => {
      const reply = randomBytes(4 * MiB);
      const target = await serve(t, (socket) => socket.on('end', () => socket.end(reply)).resume());
      const path = join(scratch(t), 's');
      await forwardUnix(t, path, target.port, { acceptPath });
      const client = dialPath(t, path);
      const seen = observe(client);
      client.end('request, then FIN');
      const outcome = await seen;
      assert.deepEqual(
        [outcome.sha256, outcome.ended, outcome.error],
        [sha256(reply), true, undefined],
      );
    });

    test('a target RST closes the Unix client at once', quick, async (t) => {
      const target = await serve(t, (socket) =>
        socket.once('data', () => socket.resetAndDestroy()),
      );
      const path = join(scratch(t), 's');
      const forwarder = await forwardUnix(t, path, target.port, { acceptPath });
      const client = dialPath(t, path);
      const seen = observe(client);
      client.write('boom');
      const outcome = await seen;
      // A Unix socket has no RST: linkfwd closes it at once, and its reader sees an end of
      // stream (README: a reset cannot be told from an end over a Unix socket).
      assert.deepEqual([outcome.bytes, outcome.ended], [0, true]);
      await waitFor('released', () => forwarder.stats().active === 0);
    });

    test(
      'a Unix client that vanishes: the target sees its end, the connection is released',
      quick,
      async (t) => {
        // A Unix socket has no RST: its peer reads EOF when it closes, whatever it left unsent.
        const target = await serve(t, (socket) => socket.on('end', () => socket.end()));
        const path = join(scratch(t), 's');
        const forwarder = await forwardUnix(t, path, target.port, { acceptPath });
        const client = dialPath(t, path);
        client.write('hello');
        const upstream = await target.next();
        const atTarget = observe(upstream);
        await waitFor('the first bytes', () => forwarder.stats().bytesIn === 5);
        client.destroy();
        const outcome = await atTarget;
        assert.deepEqual([outcome.head, outcome.ended], ['hello', true]);
        await waitFor('released', () => forwarder.stats().active === 0);
      },
    );

    test(
      'backpressure: a client that stops reading stalls the target, no data lost',
      quick,
      async (t) => {
        const total = 64 * MiB;
        const data = randomBytes(total);
        const target = await serve(t, (socket) => {
          socket.write(data, () => {
            socket.end();
          });
        });
        const path = join(scratch(t), 's');
        const forwarder = await forwardUnix(t, path, target.port, { acceptPath });
        const client = dialPath(t, path);
        client.pause();
        await once(client, 'connect');
        await waitFor('the pipe to fill', () => forwarder.stats().bytesOut > 0);
        await new Promise((resolve) => setTimeout(resolve, 300));
        const stalled = forwarder.stats().bytesOut;
        assert.ok(stalled < total, `all ${total} bytes moved to a client that does not read`);
        const outcome = await observe(client);
        assert.deepEqual([outcome.sha256, outcome.ended], [sha256(data), true]);
      },
    );
  });
}

describe('Unix-socket listeners: the path', () => {
  test('a stale socket is removed; a live one is a one-line error and stays', quick, async (t) => {
    const target = await serve(t);
    const dir = scratch(t);
    const stale = join(dir, 'stale.sock');
    const old = createServer().listen(stale);
    await once(old, 'listening');
    // Closing a listener unlinks its file: a crashed run leaves it, so copy that state by
    // forking nothing — a server whose handle is gone without unlinking is what a SIGKILL
    // leaves. Node offers no way to close without unlinking, so a second process does it.
    await new Promise((resolve) => old.close(resolve));
    const { spawnSync } = await import('node:child_process');
    spawnSync(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    assert.ok(lstatSync(stale).isSocket(), 'a stale socket is there');
    const forwarder = await forwardUnix(t, stale, target.port);
    const client = dialPath(t, stale);
    await once(client, 'connect');
    await target.next();
    assert.equal(forwarder.stats().accepted, 1);

    await assert.rejects(
      startForwarder(planned(stale, { host: REMOTE, port: target.port })),
      listenFailure(
        new RegExp(`^cannot listen on ${stale}: a server is listening there \\(-f unix:`),
      ),
    );
    assert.ok(lstatSync(stale).isSocket(), 'the live socket stays');
  });

  test('a regular file or a directory is never removed', quick, async (t) => {
    const dir = scratch(t);
    const file = join(dir, 'file');
    writeFileSync(file, 'keep me');
    await assert.rejects(
      startForwarder(planned(file, { host: REMOTE, port: 9 })),
      listenFailure(/cannot listen on .*file: a file that is not a socket is there/),
    );
    assert.equal(statSync(file).size, 7);
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    await assert.rejects(
      startForwarder(planned(sub, { host: REMOTE, port: 9 })),
      listenFailure(/cannot listen on .*sub: it is a directory/),
    );
    assert.ok(statSync(sub).isDirectory());
  });

  test('a missing directory is an error naming it, or created with mkdir', quick, async (t) => {
    const target = await serve(t);
    const dir = scratch(t);
    const path = join(dir, 'a', 'b', 'db.sock');
    await assert.rejects(
      startForwarder(planned(path, { host: REMOTE, port: target.port })),
      listenFailure(
        new RegExp(`directory ${join(dir, 'a', 'b')} does not exist \\(--mkdir creates it\\)`),
      ),
    );
    await forwardUnix(t, path, target.port, { mkdir: true });
    assert.ok(lstatSync(path).isSocket());
  });

  test('unixMode sets the permissions; without it the umask decides', quick, async (t) => {
    const target = await serve(t);
    const dir = scratch(t);
    const moded = join(dir, 'moded.sock');
    await forwardUnix(t, moded, target.port, { unixMode: 0o660 });
    assert.equal(statSync(moded).mode & 0o777, 0o660);
    const plain = join(dir, 'plain.sock');
    await forwardUnix(t, plain, target.port);
    assert.equal(statSync(plain).mode & 0o777, 0o777 & ~process.umask());
  });
});
