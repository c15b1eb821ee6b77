// UDP forwards carry datagrams whole, both ways, each reply to its own client.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { REMOTE, sha256, waitFor } from './helpers/sockets.js';
import { nextDatagram, udpEcho, udpSocket } from './helpers/udp.js';
import { forwardUdp, quick } from './udp-forwarder.js';

describe('UDP forwards', () => {
  test(
    '127.0.0.1 and ::1 on one ephemeral port, replies to each client, stats exact',
    quick,
    async (t) => {
      const echo = await udpEcho(t, REMOTE);
      const { forwarder, port } = await forwardUdp(t, { host: REMOTE, port: echo.port });
      assert.notEqual(port, 0);
      assert.deepEqual(forwarder.addresses, [
        { host: '127.0.0.1', port },
        { host: '::1', port },
      ]);
      for (const host of ['127.0.0.1', '::1']) {
        const client = await udpSocket(t, host);
        const reply = nextDatagram(client);
        client.send(`hello over ${host}`, port, host);
        assert.equal((await reply).toString(), `hello over ${host}`);
      }
      assert.deepEqual(forwarder.stats(), {
        accepted: 2,
        active: 2,
        failedDials: {},
        bytesIn: 34,
        bytesOut: 34,
        rejected: 0,
        udp: { datagramsIn: 2, datagramsOut: 2, dropped: 0, refused: 0, expired: 0 },
      });
    },
  );

  for (const [family, host, max] of [
    ['IPv4', '127.0.0.1', 65_507],
    ['IPv6', '::1', 65_527],
  ] as const) {
    test(
      `${family}: every size class up to ${max} bytes, checksummed both ways`,
      quick,
      async (t) => {
        const echo = await udpEcho(t, host === '::1' ? '::1' : REMOTE);
        const target = { host: host === '::1' ? '::1' : REMOTE, port: echo.port };
        const { forwarder, port } = await forwardUdp(t, target);
        const client = await udpSocket(t, host);
        const sizes = [
          0,
          1,
          100,
          512,
          1232,
          1472,
          1500,
          4096,
          8192,
          9000,
          16_384,
          32_768,
          65_000,
          max,
        ];
        for (const size of sizes) {
          const data = randomBytes(size);
          const reply = nextDatagram(client);
          client.send(data, port, host);
          const back = await reply;
          assert.equal(back.length, size, `size ${size} came back as ${back.length}`);
          assert.equal(sha256(back), sha256(data), `size ${size} changed on the way`);
          const seen = echo.received.at(-1)?.data ?? Buffer.alloc(0);
          assert.equal(sha256(seen), sha256(data), `size ${size} reached the target changed`);
        }
        assert.equal(
          echo.received.length,
          sizes.length,
          'one datagram in, one out: none merged or split',
        );
        const total = sizes.reduce((a, b) => a + b, 0);
        const stats = forwarder.stats();
        assert.deepEqual(
          [stats.bytesIn, stats.bytesOut, stats.udp?.datagramsIn, stats.udp?.datagramsOut],
          [total, total, sizes.length, sizes.length],
        );
      },
    );
  }

  test(
    'one upstream socket per client: 8 clients × 50 datagrams, each answered to its sender',
    quick,
    async (t) => {
      const echo = await udpEcho(t, REMOTE);
      const { forwarder, port } = await forwardUdp(t, { host: REMOTE, port: echo.port });
      const clients = await Promise.all(Array.from({ length: 8 }, () => udpSocket(t, '127.0.0.1')));
      const got = clients.map(() => [] as string[]);
      for (const [i, client] of clients.entries()) {
        client.on('message', (data) => got[i]?.push(data.toString()));
      }
      for (let round = 0; round < 50; round++) {
        for (const [i, client] of clients.entries())
          client.send(`${i}:${round}`, port, '127.0.0.1');
        await sleep(1); // paced: this test is about routing, not loss
      }
      await waitFor('every reply', () => got.every((list) => list.length === 50));
      for (const [i, list] of got.entries()) {
        assert.ok(
          list.every((text) => text.startsWith(`${i}:`)),
          `client ${i} got another's reply`,
        );
      }
      const peers = new Set(echo.received.map(({ from }) => from.port));
      assert.equal(peers.size, 8, 'the target sees one peer per client');
      assert.deepEqual([forwarder.stats().accepted, forwarder.stats().active], [8, 8]);
    },
  );
});
