/*
 * UDP forwards: what the per-datagram fast path must keep (forward/udp.ts): the flow table
 * keyed by address then port, expiry by sweep marks in both directions, and the kernel buffers
 * the listener and the flow sockets ask for, read back from the kernel with `ss`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startForwarder } from '../src/forward/forwarder.js';
import type { ForwarderOptions } from '../src/forward/settings.js';
import type { PlannedForward } from '../src/plan/index.js';
import type { Endpoint } from '../src/plan/spec.js';
import { REMOTE, waitFor } from './helpers/sockets.js';
import { freeUdpPort, nextDatagram, udpEcho, udpSocket } from './helpers/udp.js';

const quick = { timeout: 15_000 };

async function forwardUdp(t: TestContext, target: Endpoint, options: ForwarderOptions = {}) {
  const forward: PlannedForward = {
    listen: [{ host: '127.0.0.1', port: 0 }],
    target,
    origin: `0:${target.host}:${target.port}/udp`,
    source: 'flag',
    explicit: true,
    protocol: 'udp',
  };
  const forwarder = await startForwarder(forward, options);
  t.after(() => forwarder.close());
  return { forwarder, port: forwarder.addresses[0]?.port ?? 0 };
}

/** The receive and send buffer sizes (`skmem` rb, tb) of the UDP socket bound to `port`. */
function kernelBuffers(port: number): { rb: number; tb: number } {
  const out = execFileSync('ss', ['-uamnH', `sport = :${port}`], { encoding: 'utf8' });
  const rb = /\brb(\d+)/.exec(out)?.[1];
  const tb = /\btb(\d+)/.exec(out)?.[1];
  assert.ok(rb !== undefined && tb !== undefined, `no socket on port ${port} in: ${out}`);
  return { rb: Number(rb), tb: Number(tb) };
}

/** What the kernel makes of a request for `bytes`: capped at the sysctl, then doubled. */
function granted(bytes: number, sysctl: 'rmem_max' | 'wmem_max'): number {
  const max = Number(readFileSync(`/proc/sys/net/core/${sysctl}`, 'utf8'));
  return 2 * Math.min(bytes, max);
}

describe('UDP flows: table, expiry, buffers', () => {
  test(
    'one client port on two addresses is two flows, each answered to its own sender',
    quick,
    async (t) => {
      const echo = await udpEcho(t, REMOTE);
      const { forwarder, port } = await forwardUdp(t, { host: REMOTE, port: echo.port });
      // The same port number on 127.0.0.1 and 127.0.0.3: the table must key on both.
      const shared = await freeUdpPort('127.0.0.1');
      const a = await udpSocket(t, '127.0.0.1', shared);
      const b = await udpSocket(t, '127.0.0.3', shared);
      for (const [client, text] of [
        [a, 'from .1'],
        [b, 'from .3'],
        [a, 'again .1'],
      ] as const) {
        const reply = nextDatagram(client);
        client.send(text, port, '127.0.0.1');
        assert.equal((await reply).toString(), text);
      }
      assert.deepEqual([forwarder.stats().accepted, forwarder.stats().active], [2, 2]);
      assert.equal(new Set(echo.received.map(({ from }) => from.port)).size, 2);
    },
  );

  test('datagrams from the target alone keep a flow alive', quick, async (t) => {
    const echo = await udpEcho(t, REMOTE);
    const { forwarder, port } = await forwardUdp(
      t,
      { host: REMOTE, port: echo.port },
      { udpIdleTimeout: 200 },
    );
    const client = await udpSocket(t, '127.0.0.1');
    const first = nextDatagram(client);
    client.send('hello', port, '127.0.0.1');
    await first;
    const flow = echo.received[0]?.from;
    assert.ok(flow);
    // The client stays silent; the target pushes every 60 ms for 3 idle periods.
    let pushed = 0;
    client.on('message', () => {
      pushed += 1;
    });
    for (let i = 0; i < 10; i++) {
      echo.socket.send(`push ${i}`, flow.port, flow.address);
      await sleep(60);
    }
    await waitFor('every push', () => pushed === 10);
    assert.deepEqual([forwarder.stats().active, forwarder.stats().udp?.expired], [1, 0]);
    await waitFor('the flow to expire', () => forwarder.stats().active === 0, 2000);
    assert.equal(forwarder.stats().udp?.expired, 1);
  });

  test(
    'an expired flow frees its table entry: the same client opens a new flow',
    quick,
    async (t) => {
      const echo = await udpEcho(t, REMOTE);
      const { forwarder, port } = await forwardUdp(
        t,
        { host: REMOTE, port: echo.port },
        { udpIdleTimeout: 50, maxConnections: 1 },
      );
      const client = await udpSocket(t, '127.0.0.1');
      for (let round = 1; round <= 3; round++) {
        const reply = nextDatagram(client);
        client.send(`round ${round}`, port, '127.0.0.1');
        assert.equal((await reply).toString(), `round ${round}`);
        await waitFor('the flow to expire', () => forwarder.stats().active === 0, 2000);
      }
      // With a cap of one flow, a stale entry would have dropped rounds 2 and 3.
      assert.deepEqual([forwarder.stats().accepted, forwarder.stats().udp?.expired], [3, 3]);
      assert.equal(forwarder.stats().udp?.dropped, 0);
    },
  );

  test('the listener asks for 4 MiB kernel buffers and a flow for 1 MiB', quick, async (t) => {
    const echo = await udpEcho(t, REMOTE);
    const { port } = await forwardUdp(t, { host: REMOTE, port: echo.port });
    const client = await udpSocket(t, '127.0.0.1');
    const reply = nextDatagram(client);
    client.send('x', port, '127.0.0.1');
    await reply;
    const flowPort = echo.received[0]?.from.port ?? 0;
    const MiB = 1024 * 1024;
    assert.deepEqual(kernelBuffers(port), {
      rb: granted(4 * MiB, 'rmem_max'),
      tb: granted(4 * MiB, 'wmem_max'),
    });
    assert.deepEqual(kernelBuffers(flowPort), {
      rb: granted(MiB, 'rmem_max'),
      tb: granted(MiB, 'wmem_max'),
    });
  });
});
