import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns';
import { once } from 'node:events';
import type { LookupFunction } from 'node:net';
import { describe, test } from 'node:test';
import { LOOKUP_MAIN_ONLY, MATRIX, MiB, quick } from './forwarder-matrix.js';
import {
  dial,
  echoServer,
  observe,
  REMOTE,
  roundTrip,
  serve,
  sha256,
  waitFor,
} from './helpers/sockets.js';

for (const { threads, label, skip, forwardTo } of MATRIX) {
  describe(`forwarding (${label})`, { skip }, () => {
    for (const upstreamHost of [REMOTE, '::1']) {
      test(
        `round trip over 127.0.0.1 and ::1 to ${upstreamHost}, stats exact`,
        quick,
        async (t) => {
          const echo = await echoServer(t, upstreamHost);
          const { forwarder, port } = await forwardTo(t, { host: upstreamHost, port: echo.port });
          assert.notEqual(port, 0);
          assert.deepEqual(forwarder.addresses, [
            { host: '127.0.0.1', port },
            { host: '::1', port },
          ]);
          for (const host of ['127.0.0.1', '::1']) {
            const outcome = await roundTrip(t, port, `hello over ${host}`, host);
            assert.deepEqual(
              [outcome.head, outcome.ended, outcome.error],
              [`hello over ${host}`, true, undefined],
            );
          }
          await waitFor('connections released', () => forwarder.stats().active === 0);
          const { threads: perThread, ...stats } = forwarder.stats();
          if (threads > 1)
            assert.equal(
              perThread?.reduce((a, b) => a + b),
              2,
            );
          assert.deepEqual(stats, {
            accepted: 2,
            active: 0,
            failedDials: {},
            bytesIn: 34,
            bytesOut: 34,
            rejected: 0,
          });
        },
      );
    }

    test('64 MiB each way at once, byte-exact', { timeout: 30_000 }, async (t) => {
      const up = randomBytes(64 * MiB);
      const down = randomBytes(64 * MiB);
      const target = await serve(t, (socket) => socket.end(down));
      const { forwarder, port } = await forwardTo(t, target.port);
      const client = dial(t, port);
      const clientSaw = observe(client);
      client.end(up);
      const [atClient, atTarget] = await Promise.all([clientSaw, target.next().then(observe)]);
      assert.deepEqual(
        [atClient.bytes, atClient.sha256, atClient.ended],
        [down.length, sha256(down), true],
      );
      assert.deepEqual(
        [atTarget.bytes, atTarget.sha256, atTarget.ended],
        [up.length, sha256(up), true],
      );
      const { bytesIn, bytesOut } = forwarder.stats();
      assert.deepEqual([bytesIn, bytesOut], [up.length, down.length]);
    });

    test('a server that speaks first is heard before the client writes', quick, async (t) => {
      const target = await serve(t, (socket) => {
        socket.write('220 smtp ready\r\n');
        socket.on('end', () => socket.end()).resume();
      });
      const { port } = await forwardTo(t, target.port);
      const client = dial(t, port);
      const [banner] = await once(client, 'data');
      assert.equal(String(banner), '220 smtp ready\r\n');
      client.end();
    });

    test('bytes sent before the upstream connects wait in the kernel', quick, async (t) => {
      const echo = await echoServer(t);
      let answer: (() => void) | undefined;
      // The name lookup, and so the dial, hangs until the test lets it answer.
      const heldLookup: LookupFunction = (_host, options, callback) => {
        answer = () => dnsLookup(REMOTE, options, callback);
      };
      if (threads > 1) return t.skip(LOOKUP_MAIN_ONLY);
      const target = { host: 'held.test', port: echo.port };
      const { forwarder, port } = await forwardTo(t, target, { lookup: heldLookup });
      const early = randomBytes(32 * 1024);
      const client = dial(t, port);
      const seen = observe(client);
      client.end(early);
      await waitFor('the dial to start', () => answer !== undefined);
      await waitFor(
        'the client to flush',
        () => client.writableLength === 0 && client.bytesWritten > 0,
      );
      assert.equal(
        forwarder.stats().bytesIn,
        0,
        'linkfwd does not read before the upstream is there',
      );
      answer?.();
      const outcome = await seen;
      assert.deepEqual([outcome.sha256, outcome.ended], [sha256(early), true]);
    });

    test('200 concurrent clients', { timeout: 20_000 }, async (t) => {
      const echo = await echoServer(t);
      const { forwarder, port } = await forwardTo(t, echo.port);
      const payloads = Array.from({ length: 200 }, () => randomBytes(16 * 1024));
      const outcomes = await Promise.all(
        payloads.map((payload) => {
          const client = dial(t, port);
          const seen = observe(client);
          client.end(payload);
          return seen;
        }),
      );
      outcomes.forEach((outcome, i) => {
        assert.equal(outcome.sha256, sha256(payloads[i] as Buffer), `client ${i}`);
      });
      await waitFor('connections released', () => forwarder.stats().active === 0);
      assert.equal(forwarder.stats().accepted, 200);
    });
  });

  describe(`half-close (${label})`, { skip }, () => {
    test('a client that end()s still gets the whole reply', quick, async (t) => {
      const reply = randomBytes(4 * MiB);
      // The target answers only once it has seen the client's FIN.
      const target = await serve(t, (socket) => socket.on('end', () => socket.end(reply)).resume());
      const { port } = await forwardTo(t, target.port);
      const outcome = await roundTrip(t, port, 'request, then FIN');
      assert.deepEqual(
        [outcome.sha256, outcome.ended, outcome.error],
        [sha256(reply), true, undefined],
      );
    });

    test('a target that end()s still receives the rest of the request', quick, async (t) => {
      const rest = randomBytes(4 * MiB);
      const target = await serve(t, (socket) => socket.end('goodbye'));
      const { port } = await forwardTo(t, target.port);
      const client = dial(t, port, '127.0.0.1', true);
      const clientSaw = observe(client);
      // The client goes on writing after the target's FIN has reached it.
      client.once('end', () => client.end(rest));
      const [atClient, atTarget] = await Promise.all([clientSaw, target.next().then(observe)]);
      assert.deepEqual([atClient.head, atClient.ended], ['goodbye', true]);
      assert.deepEqual(
        [atTarget.sha256, atTarget.ended, atTarget.error],
        [sha256(rest), true, undefined],
      );
    });
  });
}
