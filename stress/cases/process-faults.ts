import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { childPids, limitedCommand, openFds } from '../../test/helpers/proc.js';
import { fixture, within } from '../../test/helpers/process.js';
import {
  bindError,
  dial,
  echoServer,
  freePort,
  observe,
  REMOTE,
  waitFor,
} from '../../test/helpers/sockets.js';
import { pool, startListening } from '../harness.js';
import { figure, type Scale } from '../scale.js';

/** A connected client that collects what it reads; `reply()` waits for `text` to come back. */
function client(t: TestContext, port: number) {
  const socket = dial(t, port, '127.0.0.1', true);
  let received = '';
  let closed = false;
  let error: string | undefined;
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    received += chunk;
  });
  socket.on('error', (e: NodeJS.ErrnoException) => {
    error ??= e.code;
  });
  socket.on('close', () => {
    closed = true;
  });
  return {
    socket,
    /** Writes `text`; resolves true once it came back, false if the socket closed first. */
    async echo(text: string, timeout = 10_000): Promise<boolean> {
      const before = received.length;
      socket.write(text);
      await waitFor(
        `"${text}" echoed or the socket closed`,
        () => closed || received.length >= before + text.length,
        timeout,
      );
      return received.slice(before, before + text.length) === text;
    },
    closed: () => closed,
    error: () => error,
  };
}

/** Process faults: what happens to linkfwd's own process, its app and its resources. */
export function processFaultCases(scale: Scale): void {
  const timeout = scale.name === 'full' ? 120_000 : 30_000;

  describe('process faults', () => {
    test('the app SIGKILLed: linkfwd exits 137 within a second, its ports free at once', {
      timeout,
    }, async (t) => {
      const echo = await echoServer(t);
      const port = await freePort('127.0.0.1');
      const linkfwd = await startListening(
        t,
        ['-f', `${port}:${REMOTE}:${echo.port}`, '--', ...fixture('forever.mjs')],
        [port],
      );
      await linkfwd.waitForStdout(/ready/);
      const live = client(t, port);
      assert.ok(await live.echo('held open'));
      const [app] = childPids(linkfwd.pid);
      assert.ok(app !== undefined, 'the app is linkfwd’s child');

      const killedAt = Date.now();
      process.kill(app, 'SIGKILL');
      const { status, at } = await within(linkfwd.exited, 5000, 'linkfwd exits');
      const free = { ipv4: await bindError('127.0.0.1', port), ipv6: await bindError('::1', port) };
      assert.equal(status, 137);
      assert.ok(at - killedAt < 1000, `linkfwd exited ${at - killedAt} ms after its app`);
      assert.deepEqual(free, { ipv4: undefined, ipv6: undefined }, 'both listen ports free');
      await waitFor('the live connection to be closed', live.closed);
      assert.equal(live.error(), 'ECONNRESET', 'the live connection was reset');
      figure(t, scale, 'app SIGKILLed: linkfwd exit (137) after', at - killedAt, 'ms');
    });

    test('stderr closed under -v: linkfwd survives and the app completes', {
      timeout,
    }, async (t) => {
      const echo = await echoServer(t);
      const refusing = await freePort();
      const [good, bad] = [await freePort('127.0.0.1'), await freePort('127.0.0.1')];
      const trips = 20;
      const linkfwd = await startListening(
        t,
        [
          '-v',
          '-f',
          `${good}:${REMOTE}:${echo.port}`,
          '-f',
          `${bad}:${REMOTE}:${refusing}`,
          '--',
          ...fixture('dial-through.mjs', String(good), String(trips), '7'),
        ],
        [good, bad],
      );
      await linkfwd.waitForStderr(/listening on/);
      linkfwd.child.stderr?.destroy(); // every later write to stderr fails with EPIPE
      // Failed dials make linkfwd write warnings and debug lines into the closed pipe.
      for (let i = 0; i < 5; i++) {
        const refused = dial(t, bad);
        assert.equal((await observe(refused)).error, 'ECONNRESET');
      }
      linkfwd.child.stdin?.write('go\n');
      const { status } = await within(linkfwd.exited, 20_000, 'linkfwd exits with its app');
      assert.equal(linkfwd.stdout, `ok ${trips}\n`);
      assert.equal(status, 7);
    });

    test('the fd limit reached (RLIMIT_NOFILE 256, 500 clients): new clients reset, existing ones unaffected, recovery', {
      timeout,
    }, async (t) => {
      const echo = await echoServer(t);
      const port = await freePort('127.0.0.1');
      const linkfwd = await startListening(t, ['-f', `${port}:${REMOTE}:${echo.port}`], [port], {
        command: limitedCommand({ nofile: 256 }),
      });

      const clients = Array.from({ length: 500 }, () => client(t, port));
      const served = await Promise.all(clients.map((c, i) => c.echo(`hello ${i}`)));
      const kept = clients.filter((_, i) => served[i]);
      const refused = clients.filter((_, i) => !served[i]);
      const peakFds = openFds(linkfwd.pid);
      assert.ok(refused.length > 0, 'the fd limit was reached');
      assert.ok(kept.length > 50, `only ${kept.length} clients served`);
      assert.deepEqual(
        [...new Set(refused.map((c) => c.error() ?? 'clean close'))],
        ['ECONNRESET'],
        'clients beyond the limit are reset',
      );

      const again = await Promise.all(kept.map((c, i) => c.echo(`again ${i}`)));
      assert.equal(again.filter(Boolean).length, kept.length, 'every served client still echoes');

      for (const c of clients) c.socket.destroy();
      await waitFor('linkfwd to release the connections', () => openFds(linkfwd.pid) < 40, 10_000);
      const started = Date.now();
      let recovered = 0;
      await pool(50, 10, async () => {
        const c = client(t, port);
        if (await c.echo('recovered?')) recovered++;
        c.socket.destroy();
      });
      assert.equal(recovered, 50, 'new clients are served once load drops');
      assert.equal(linkfwd.child.exitCode, null);
      // The reset comes from linkfwd, never from the kernel's EMFILE, which libuv leaves unreported.
      assert.match(linkfwd.stderr, /too many open files \(limit 256\), new clients are reset/);
      assert.ok(peakFds < 256, `linkfwd held ${peakFds} descriptors at the peak`);
      figure(
        t,
        scale,
        'fd limit 256, 500 clients: served / reset',
        `${kept.length} / ${refused.length}`,
      );
      figure(t, scale, 'fd limit 256: linkfwd open fds at the peak', peakFds);
      figure(
        t,
        scale,
        'fd limit 256: 50 new clients served after load dropped in',
        Date.now() - started,
        'ms',
      );
    });
  });
}
