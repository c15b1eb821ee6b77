// The life of a UDP forward's flows and sockets: expiry, ICMP refusals, the flow cap, a target
// resolved per flow, binding all or nothing and closing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LinkfwdError } from '../src/errors.js';
import { startForwarder } from '../src/forward/forwarder.js';
import { waitForTargets } from '../src/forward/index.js';
import { recorder } from './forwarder-matrix.js';
import { REMOTE, waitFor } from './helpers/sockets.js';
import { freeUdpPort, nextDatagram, udpEcho, udpSocket } from './helpers/udp.js';
import { forwardUdp, planned, quick } from './udp-forwarder.js';

describe('UDP forwards', () => {
  test(
    'waiting for targets (--wait, /readyz) leaves a UDP target out: it cannot be probed',
    quick,
    async () => {
      // Nothing listens on the target, over TCP or UDP: a TCP forward to it is never ready.
      const target = { host: REMOTE, port: await freeUdpPort(REMOTE) };
      await waitForTargets([planned(target)], { timeout: 300 });
      const tcp = { ...planned(target), protocol: 'tcp' as const };
      await assert.rejects(waitForTargets([tcp], { timeout: 300 }), {
        code: 'ERR_LINKFWD_WAIT_TIMEOUT',
      });
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
