import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { BULK_BUDGET, bulkBytes } from '../src/forward/data-path.js';
import { startForwarder } from '../src/forward/forwarder.js';
import type { PlannedForward } from '../src/plan/index.js';
import { dial, observe, REMOTE, serve, sha256, waitFor } from './helpers/sockets.js';

const MiB = 1024 * 1024;

function planned(port: number): PlannedForward {
  const target = { host: REMOTE, port };
  const origin = `0:${REMOTE}:${port}`;
  return {
    listen: [{ host: '127.0.0.1', port: 0 }],
    target,
    origin,
    source: 'flag',
    explicit: true,
  };
}

/** Writes `data` in random slices of up to 3000 bytes, yielding to the event loop after each. */
async function trickle(socket: Socket, data: Buffer): Promise<void> {
  for (let at = 0; at < data.length; ) {
    const size = 1 + Math.floor(Math.random() * 3000);
    if (!socket.write(data.subarray(at, at + size))) await once(socket, 'drain');
    at += size;
    await yieldToLoop();
  }
}

/** Writes `data` in slices of `size` bytes with backpressure. */
async function sendSlices(socket: Socket, data: Buffer, size: number): Promise<void> {
  for (let at = 0; at < data.length; at += size) {
    if (!socket.write(data.subarray(at, at + size))) await once(socket, 'drain');
  }
}

describe('the read path', () => {
  test('small chunks both ways into stalled readers arrive byte-exact', async (t) => {
    // Short reads land in one read buffer shared by every socket and must be copied before
    // write(): a reader that stalls leaves writes queued, and the next read (this direction's
    // or the other's) reuses the buffer. Random bytes show any overwrite.
    const target = await serve(t);
    const forwarder = await startForwarder(planned(target.port));
    t.after(() => forwarder.close());
    // Half-open: the client goes on sending after the reply has ended.
    const client = dial(t, forwarder.addresses[0]?.port ?? 0, '127.0.0.1', true);
    client.pause();
    await once(client, 'connect');
    const upstream = await target.next();
    upstream.pause();
    const up = randomBytes(8 * MiB);
    const down = randomBytes(8 * MiB);
    const sending = Promise.all([
      trickle(client, up).then(() => client.end()),
      trickle(upstream, down).then(() => upstream.end()),
    ]);
    let last = '';
    await waitFor(
      'linkfwd to stop reading both ways',
      () => {
        const { bytesIn, bytesOut } = forwarder.stats();
        const now = `${bytesIn}/${bytesOut}`;
        const stalled = now === last && bytesIn > 0 && bytesOut > 0;
        last = now;
        return stalled;
      },
      20_000,
    );
    const [atClient, atTarget] = await Promise.all([observe(client), observe(upstream), sending]);
    assert.deepEqual([atClient.sha256, atClient.ended], [sha256(down), true]);
    assert.deepEqual([atTarget.sha256, atTarget.ended], [sha256(up), true]);
  });

  for (const direction of ['client → target', 'target → client']) {
    test(`${direction}: full reads into a reader that keeps pausing arrive byte-exact`, async (t) => {
      // Full reads go into a buffer of the socket's own, written without a copy and reused only
      // while each write is taken at once; a reader that pauses leaves writes half-taken.
      const target = await serve(t);
      const forwarder = await startForwarder(planned(target.port));
      t.after(() => forwarder.close());
      const client = dial(t, forwarder.addresses[0]?.port ?? 0);
      await once(client, 'connect');
      const upstream = await target.next();
      const [sender, receiver] = direction.startsWith('client')
        ? [client, upstream]
        : [upstream, client];
      const data = randomBytes(32 * MiB);
      let received = 0;
      receiver.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received % (2 * MiB) < chunk.length) {
          receiver.pause();
          setTimeout(() => receiver.resume(), 20);
        }
      });
      receiver.on('end', () => receiver.end());
      const seen = observe(receiver);
      await sendSlices(sender, data, MiB);
      sender.end();
      const outcome = await seen;
      assert.deepEqual([outcome.bytes, outcome.sha256], [data.length, sha256(data)]);
    });
  }

  test('bulk buffers of all connections together stay within their budget, none left after', async (t) => {
    // 48 streams into clients that do not read yet: each upstream leg reads on, a bigger buffer
    // each time, until the client's socket buffers fill, and then holds its next buffer. At
    // 1 MiB each that would be 48 MiB, over the budget.
    const streams = 48;
    const data = randomBytes(8 * MiB);
    const target = await serve(t, (socket) => {
      void sendSlices(socket, data, MiB).then(() => socket.end());
    });
    const forwarder = await startForwarder(planned(target.port));
    t.after(() => forwarder.close());
    const clients = Array.from({ length: streams }, () => {
      const client = dial(t, forwarder.addresses[0]?.port ?? 0);
      client.pause();
      return client;
    });
    let peak = 0;
    let last = -1;
    let still = 0; // samples, 10 ms apart, without a byte moving
    await waitFor(
      'linkfwd to stop reading from every upstream',
      () => {
        peak = Math.max(peak, bulkBytes());
        const { bytesOut, active } = forwarder.stats();
        still = bytesOut === last && active === streams ? still + 1 : 0;
        last = bytesOut;
        return still >= 20;
      },
      20_000,
    );
    const outcomes = clients.map((client) => observe(client));
    const sample = setInterval(() => {
      peak = Math.max(peak, bulkBytes());
    }, 1);
    t.after(() => clearInterval(sample));
    for (const outcome of await Promise.all(outcomes)) {
      assert.deepEqual([outcome.bytes, outcome.sha256], [data.length, sha256(data)]);
    }
    clearInterval(sample);
    assert.ok(peak > BULK_BUDGET / 2, `bulk reads in use (peak ${peak} bytes)`);
    assert.ok(peak <= BULK_BUDGET, `peak ${peak} bytes over the budget of ${BULK_BUDGET}`);
    await waitFor('the connections released', () => forwarder.stats().active === 0);
    assert.equal(bulkBytes(), 0);
  });

  test("clients of Node's own net.Server (no accept hook) are forwarded alike", async (t) => {
    // Where a Node lacks the listening handle's `onconnection`, clients come through the
    // 'connection' event as Node's sockets, read through 'data' events.
    const reply = randomBytes(4 * MiB);
    const target = await serve(t, (socket) => socket.on('end', () => socket.end(reply)).resume());
    const forwarder = await startForwarder(planned(target.port), { acceptPath: 'fallback' });
    t.after(() => forwarder.close());
    assert.equal(forwarder.acceptPath, 'fallback');
    const request = randomBytes(4 * MiB);
    const client = dial(t, forwarder.addresses[0]?.port ?? 0);
    const seen = observe(client);
    client.end(request);
    const outcome = await seen;
    assert.deepEqual([outcome.sha256, outcome.ended], [sha256(reply), true]);
    await waitFor('the connection released', () => forwarder.stats().active === 0);
    const { accepted, bytesIn, bytesOut } = forwarder.stats();
    assert.deepEqual([accepted, bytesIn, bytesOut], [1, request.length, reply.length]);
  });
});
