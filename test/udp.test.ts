import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { describe, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LinkfwdError } from '../src/errors.js';
import { startForwarder } from '../src/forward/forwarder.js';
import type { ForwarderOptions } from '../src/forward/settings.js';
import type { Logger } from '../src/log.js';
import type { ListenAddress, PlannedForward } from '../src/plan/plan.js';
import type { Endpoint } from '../src/plan/spec.js';
import { startForwardOnly } from './helpers/cli.js';
import { REMOTE, sha256, waitFor } from './helpers/sockets.js';
import { freeUdpPort, nextDatagram, udpEcho, udpSocket } from './helpers/udp.js';

const LOOPBACK: ListenAddress[] = [
  { host: '127.0.0.1', port: 0 },
  { host: '::1', port: 0, optional: true },
];
const quick = { timeout: 15_000 };

function planned(target: Endpoint, listen = LOOPBACK): PlannedForward {
  const origin = `0:${target.host}:${target.port}/udp`;
  return { listen, target, origin, source: 'flag', explicit: true, protocol: 'udp' };
}

async function forwardUdp(t: TestContext, target: Endpoint, options: ForwarderOptions = {}) {
  const forwarder = await startForwarder(planned(target), options);
  t.after(() => forwarder.close());
  assert.equal(forwarder.acceptPath, 'none');
  return { forwarder, port: forwarder.addresses[0]?.port ?? 0 };
}

function recorder(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (message) => warnings.push(message), error: () => {} };
}

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

  test('an idle flow expires; the next datagram opens a new one', quick, async (t) => {
    const echo = await udpEcho(t, REMOTE);
    const { forwarder, port } = await forwardUdp(
      t,
      { host: REMOTE, port: echo.port },
      { udpIdleTimeout: 200 },
    );
    const client = await udpSocket(t, '127.0.0.1');
    let reply = nextDatagram(client);
    client.send('one', port, '127.0.0.1');
    await reply;
    // Traffic keeps it alive past the idle time.
    for (let i = 0; i < 5; i++) {
      await sleep(80);
      reply = nextDatagram(client);
      client.send('keep', port, '127.0.0.1');
      await reply;
    }
    assert.deepEqual([forwarder.stats().active, forwarder.stats().udp?.expired], [1, 0]);
    await waitFor('the flow to expire', () => forwarder.stats().active === 0, 2000);
    assert.equal(forwarder.stats().udp?.expired, 1);
    reply = nextDatagram(client);
    client.send('two', port, '127.0.0.1');
    assert.equal((await reply).toString(), 'two');
    assert.deepEqual([forwarder.stats().accepted, forwarder.stats().active], [2, 1]);
    const ports = echo.received.map(({ from }) => from.port);
    assert.notEqual(ports[0], ports.at(-1), 'a new flow has a new upstream socket');
  });

  test(
    'ICMP port unreachable is counted and the flow works once the target is back',
    quick,
    async (t) => {
      const targetPort = await freeUdpPort(REMOTE);
      const { forwarder, port } = await forwardUdp(t, { host: REMOTE, port: targetPort });
      const client = await udpSocket(t, '127.0.0.1');
      for (let i = 0; i < 3; i++) {
        client.send('anyone?', port, '127.0.0.1');
        await sleep(30);
      }
      await waitFor('refusals counted', () => (forwarder.stats().udp?.refused ?? 0) >= 1);
      assert.equal(forwarder.stats().active, 1, 'the flow stays');
      const echo = await udpEcho(t, REMOTE, targetPort);
      const reply = nextDatagram(client);
      client.send('back?', port, '127.0.0.1');
      assert.equal((await reply).toString(), 'back?');
      assert.equal(echo.received.length, 1);
      assert.equal(forwarder.stats().accepted, 1, 'the same flow carried it');
    },
  );

  test(
    'over the flow cap, new peers are dropped with one warning; known ones still pass',
    quick,
    async (t) => {
      const echo = await udpEcho(t, REMOTE);
      const logger = recorder();
      const { forwarder, port } = await forwardUdp(
        t,
        { host: REMOTE, port: echo.port },
        { maxConnections: 2, logger },
      );
      const [a, b, c] = await Promise.all([1, 2, 3].map(() => udpSocket(t, '127.0.0.1')));
      assert.ok(a && b && c);
      for (const client of [a, b]) {
        const reply = nextDatagram(client);
        client.send('in', port, '127.0.0.1');
        await reply;
      }
      let answered = false;
      c.on('message', () => {
        answered = true;
      });
      for (let i = 0; i < 3; i++) c.send('over', port, '127.0.0.1');
      const reply = nextDatagram(a);
      a.send('still', port, '127.0.0.1');
      assert.equal((await reply).toString(), 'still');
      await sleep(50);
      assert.equal(answered, false);
      const stats = forwarder.stats();
      assert.deepEqual([stats.active, stats.rejected, stats.udp?.dropped], [2, 3, 3]);
      assert.equal(logger.warnings.length, 1);
      assert.match(
        logger.warnings[0] ?? '',
        /2 UDP flows open, datagrams from new clients are dropped/,
      );
    },
  );

  test(
    'a host-name target is resolved per flow; a name that does not resolve is counted',
    quick,
    async (t) => {
      const echo = await udpEcho(t, REMOTE);
      const logger = recorder();
      let lookups = 0;
      const { forwarder, port } = await forwardUdp(
        t,
        { host: 'dns.test', port: echo.port },
        {
          logger,
          lookup: (_host, _options, callback) => {
            lookups += 1;
            if (lookups === 1) callback(null, REMOTE, 4);
            else callback(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }), '', 0);
          },
        },
      );
      const a = await udpSocket(t, '127.0.0.1');
      const reply = nextDatagram(a);
      a.send('via name', port, '127.0.0.1');
      assert.equal((await reply).toString(), 'via name');
      const b = await udpSocket(t, '127.0.0.1');
      b.send('lost', port, '127.0.0.1');
      await waitFor('the failed lookup', () => forwarder.stats().failedDials.ENOTFOUND === 1);
      assert.deepEqual([forwarder.stats().active, forwarder.stats().udp?.dropped], [1, 1]);
      assert.match(
        logger.warnings[0] ?? '',
        /cannot reach dns\.test:\d+ for -f .*: host not found/,
      );
    },
  );

  test(
    'all or nothing: a port taken on one address binds none; close frees every socket',
    quick,
    async (t) => {
      const taken = await udpSocket(t, '127.0.0.1');
      const port = taken.address().port;
      const listen = [
        { host: '::1', port },
        { host: '127.0.0.1', port },
      ];
      await assert.rejects(
        startForwarder(planned({ host: REMOTE, port: 9 }, listen)),
        (error: unknown) =>
          error instanceof LinkfwdError &&
          error.code === 'ERR_LINKFWD_LISTEN' &&
          error.message.includes(`cannot listen on 127.0.0.1:${port}/udp: address already in use`),
      );
      const again = await udpSocket(t, '::1', port); // ::1 was released
      again.close();
      const echo = await udpEcho(t, REMOTE);
      const forwarder = await startForwarder(
        planned({ host: REMOTE, port: echo.port }, [{ host: '::1', port }]),
      );
      const client = await udpSocket(t, '::1');
      const reply = nextDatagram(client);
      client.send('x', port, '::1');
      await reply;
      await forwarder.close();
      await forwarder.close(); // idempotent
      const rebound = await udpSocket(t, '::1', port);
      rebound.close();
    },
  );
});

describe('UDP flows and the open-file limit', () => {
  test('each flow counts against the open-file budget: past it, new peers are dropped, warned once', {
    timeout: 30_000,
  }, async (t) => {
    // linkfwd as a user runs it under a low `ulimit -n`: without the budget, flows would take
    // descriptors until sockets fail (EMFILE) for TCP clients and UDP flows alike.
    const echo = await udpEcho(t, REMOTE);
    const port = await freeUdpPort('127.0.0.1');
    const forward = `127.0.0.1:${port}:${REMOTE}:${echo.port}/udp`;
    const { child: linkfwd, stderr } = await startForwardOnly(t, ['-f', forward], 60);
    const clients = await Promise.all(Array.from({ length: 80 }, () => udpSocket(t, '127.0.0.1')));
    let answered = 0;
    for (const client of clients) {
      client.once('message', () => {
        answered += 1;
      });
      client.send('hello', port, '127.0.0.1');
      await sleep(2);
    }
    await sleep(500);
    const open = readdirSync(`/proc/${linkfwd.pid}/fd`).length;
    linkfwd.kill('SIGTERM');
    const [status] = await once(linkfwd, 'exit');
    assert.equal(status, 0, stderr());
    const lines = stderr()
      .trim()
      .split('\n')
      .filter((line) => !line.includes('forwarding '));
    assert.deepEqual(lines, [
      `linkfwd: -f ${forward}: too many open files (limit 60), datagrams from new clients are dropped`,
    ]);
    assert.ok(answered > 0 && answered < 60, `${answered} peers answered`);
    assert.ok(open < 60, `${open} descriptors open in linkfwd`);
  });
});
