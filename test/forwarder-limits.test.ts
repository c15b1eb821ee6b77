import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import { MATRIX, MiB, quick, recorder } from './forwarder-matrix.js';
import {
  dial,
  echoServer,
  type Outcome,
  observe,
  resetBehindDataIsReported,
  roundTrip,
  sendRepeated,
  serve,
  waitFor,
} from './helpers/sockets.js';

/** The most a TCP send plus receive buffer may hold (Linux maxima, or 16 MiB elsewhere). */
function kernelBufferMax(): number {
  try {
    const max = (file: string) => Number(readFileSync(file, 'utf8').trim().split(/\s+/)[2]);
    return max('/proc/sys/net/ipv4/tcp_wmem') + max('/proc/sys/net/ipv4/tcp_rmem');
  } catch {
    return 16 * MiB;
  }
}

for (const { label, skip, forwardTo } of MATRIX) {
  describe(`limits (${label})`, { skip }, () => {
    test('over maxConnections new clients are reset, with one warning', quick, async (t) => {
      const echo = await echoServer(t);
      const logger = recorder();
      const { forwarder, port } = await forwardTo(t, echo.port, { maxConnections: 2, logger });
      const live = [dial(t, port), dial(t, port)];
      for (const client of live) {
        client.write('x');
        await once(client, 'data');
      }
      for (let i = 0; i < 2; i++) assert.equal((await roundTrip(t, port, 'y')).error, 'ECONNRESET');
      assert.equal(logger.warnings.length, 1);
      assert.deepEqual([forwarder.stats().rejected, forwarder.stats().accepted], [2, 2]);
      live[0]?.end();
      await waitFor('a free slot', () => forwarder.stats().active === 1);
      assert.equal((await roundTrip(t, port, 'z')).head, 'z');
    });

    test('idleTimeout: traffic either way keeps it, silence ends it (FIN)', quick, async (t) => {
      const idleTimeout = 500;
      const timers = new Set<NodeJS.Timeout>();
      t.after(() => timers.forEach(clearInterval));
      const ticks = { up: 0, down: 0, last: 0 };
      const tick = (socket: Socket, way: 'up' | 'down') => {
        const timer = setInterval(() => {
          ticks[way] += 1;
          ticks.last = Date.now();
          socket.write('.');
        }, 50);
        timers.add(timer);
      };
      // Connection "down" only carries target → client ticks, "up" only client → target ones.
      const target = await serve(t, (socket) => {
        socket.once('data', (first) => String(first) === 'down' && tick(socket, 'down'));
        socket.on('end', () => socket.end());
      });
      const { forwarder, port } = await forwardTo(t, target.port, { idleTimeout });
      const down = dial(t, port);
      const up = dial(t, port);
      const outcomes = [observe(down), observe(up)];
      down.write('down');
      up.write('up');
      tick(up, 'up');
      await waitFor('twice the idle timeout of ticks', () => ticks.up >= 20 && ticks.down >= 20);
      assert.equal(forwarder.stats().active, 2, 'busy connections stay open');

      timers.forEach(clearInterval);
      const [atDown, atUp] = (await Promise.all(outcomes)) as [Outcome, Outcome];
      const took = Date.now() - ticks.last;
      assert.ok(took >= idleTimeout - 30 && took < idleTimeout + 1500, `closed ${took} ms after`);
      assert.deepEqual(
        [atDown.ended, atDown.error, atUp.ended, atUp.error],
        [true, undefined, true, undefined],
      );
      assert.ok(atDown.bytes > 3, 'ticks went through');
    });

    test('idleTimeout resets a transfer stalled by a reader that stopped', quick, async (t) => {
      if (!(await resetBehindDataIsReported(t))) {
        t.skip('this kernel reports a RST behind unread data as a clean end: no reset to observe');
        return;
      }
      // More than the kernel buffers of both hops hold, so that linkfwd itself has bytes queued.
      const size = 4 * kernelBufferMax();
      const target = await serve(t, (socket) => {
        sendRepeated(socket, Buffer.alloc(MiB), size).then(
          () => socket.end(),
          () => {},
        );
      });
      const { forwarder, port } = await forwardTo(t, target.port, { idleTimeout: 200 });
      const client = dial(t, port); // never read until the idle timeout has struck
      await waitFor('linkfwd to read', () => forwarder.stats().bytesOut > 0);
      await waitFor('the idle timeout', () => forwarder.stats().active === 0);
      const outcome = await observe(client);
      assert.deepEqual([outcome.ended, outcome.error], [false, 'ECONNRESET']);
      assert.ok(outcome.bytes < size);
    });

    for (const direction of ['target → slow client', 'client → slow target']) {
      test(`${direction}: 256 MiB with bounded buffering`, { timeout: 40_000 }, async (t) => {
        const total = 256 * MiB;
        const target = await serve(t);
        const { forwarder, port } = await forwardTo(t, target.port);
        const client = dial(t, port);
        await once(client, 'connect');
        const upstream = await target.next();
        const download = direction.startsWith('target');
        const [sender, receiver] = download ? [upstream, client] : [client, upstream];
        const readByLinkfwd = () =>
          download ? forwarder.stats().bytesOut : forwarder.stats().bytesIn;
        // What linkfwd may hold beyond the receiver: its own buffers (tens of KiB) plus the kernel
        // buffers of one hop, at most tcp_wmem + tcp_rmem maxima. Unbounded would be ~256 MiB.
        const bound = kernelBufferMax() + 4 * MiB;

        const sending = sendRepeated(sender, Buffer.alloc(MiB, 0x61), total).then(() =>
          sender.end(),
        );
        // The receiver reads nothing for a while; linkfwd must stop reading too.
        let last = -1;
        await waitFor('linkfwd to stop reading', () => {
          const now = readByLinkfwd();
          const stalled = now === last && now > 0;
          last = now;
          return stalled;
        });
        assert.ok(last < bound, `linkfwd read ${last} bytes ahead of a reader that read nothing`);

        // Then it reads in bursts, pausing now and then.
        let received = 0;
        let ahead = 0;
        receiver.on('data', (chunk: Buffer) => {
          received += chunk.length;
          ahead = Math.max(ahead, readByLinkfwd() - received);
          if (received % (32 * MiB) < chunk.length) {
            receiver.pause();
            setTimeout(() => receiver.resume(), 50);
          }
        });
        await Promise.all([sending, once(receiver, 'end')]);
        assert.equal(received, total);
        t.diagnostic(`read ahead: ${last} bytes while stalled, ${ahead} at most; bound ${bound}`);
        assert.ok(ahead < bound, `linkfwd was at most ${ahead} bytes ahead of the reader`);
      });
    }
  });
}
