import assert from 'node:assert/strict';
import { lookup as dnsLookup } from 'node:dns';
import { once } from 'node:events';
import type { LookupFunction } from 'node:net';
import { describe, test } from 'node:test';
import { reset } from '../src/forward/connection.js';
import { startForwarder } from '../src/forward/forwarder.js';
import { LOOKUP_MAIN_ONLY, MATRIX, planned, quick, recorder } from './forwarder-matrix.js';
import {
  dial,
  dialObserved,
  echoServer,
  freePort,
  observe,
  REMOTE,
  roundTrip,
  serve,
  unansweredPort,
  waitFor,
} from './helpers/sockets.js';

for (const { acceptPath, threads, label, skip, forwardTo } of MATRIX) {
  describe(`resets (${label})`, { skip }, () => {
    test('a target RST reaches the client as ECONNRESET, not a clean end', quick, async (t) => {
      const target = await serve(t, (socket) =>
        socket.once('data', () => socket.resetAndDestroy()),
      );
      const { port } = await forwardTo(t, target.port);
      const client = dial(t, port);
      const seen = observe(client);
      client.write('boom');
      const outcome = await seen;
      assert.deepEqual([outcome.ended, outcome.error], [false, 'ECONNRESET']);
    });

    test('a client RST reaches the target as a reset', quick, async (t) => {
      const target = await serve(t);
      const { forwarder, port } = await forwardTo(t, target.port);
      const client = dial(t, port);
      client.write('hello');
      const upstream = await target.next();
      const atTarget = observe(upstream);
      await waitFor('the first bytes', () => forwarder.stats().bytesIn === 5);
      client.resetAndDestroy();
      const outcome = await atTarget;
      assert.deepEqual([outcome.ended, outcome.error], [false, 'ECONNRESET']);
      await waitFor('connection released', () => forwarder.stats().active === 0);
    });

    test('refused: prompt reset, listener serves on, warns once per run', quick, async (t) => {
      const targetPort = await freePort();
      const logger = recorder();
      const { forwarder, port } = await forwardTo(t, targetPort, { logger });
      const started = Date.now();
      for (let i = 0; i < 2; i++) {
        const outcome = await roundTrip(t, port, 'anyone?');
        assert.deepEqual([outcome.bytes, outcome.ended, outcome.error], [0, false, 'ECONNRESET']);
      }
      assert.ok(Date.now() - started < 2000, 'reset promptly');
      assert.equal(logger.warnings.length, 1, 'repeats are debug lines');

      // The listener kept serving: once the target is up, the next client gets through.
      const target = await serve(t, (socket) => socket.pipe(socket), REMOTE, targetPort);
      assert.equal((await roundTrip(t, port, 'now?')).head, 'now?');
      // The first failure after a success warns again.
      for (const socket of target.sockets) socket.destroy();
      await new Promise((resolve) => target.server.close(resolve));
      assert.equal((await roundTrip(t, port, 'gone?')).error, 'ECONNRESET');
      assert.equal(logger.warnings.length, 2);
      assert.deepEqual(forwarder.stats().failedDials, { ECONNREFUSED: 3 });
      assert.equal(forwarder.stats().accepted, 4);
    });

    test('connect timeout: a target that never answers is reset after it', quick, async (t) => {
      const targetPort = await unansweredPort(t);
      const { forwarder, port } = await forwardTo(t, targetPort, { connectTimeout: 300 });
      const started = Date.now();
      const outcome = await roundTrip(t, port, 'hello?');
      const took = Date.now() - started;
      assert.equal(outcome.error, 'ECONNRESET');
      assert.ok(took >= 250 && took < 3000, `reset after ${took} ms`);
      assert.deepEqual(forwarder.stats().failedDials, { ETIMEDOUT: 1 });
    });

    test('the target name is resolved per connection; lookup failure resets', quick, async (t) => {
      if (threads > 1) return t.skip(LOOKUP_MAIN_ONLY);
      const echo = await echoServer(t);
      const asked: string[] = [];
      let broken = false;
      const lookup: LookupFunction = (host, options, callback) => {
        asked.push(host);
        if (!broken) return dnsLookup(REMOTE, options, callback);
        callback(
          Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }),
          '',
        );
      };
      const { forwarder, port } = await forwardTo(
        t,
        { host: 'db.test', port: echo.port },
        { lookup },
      );
      for (let i = 0; i < 3; i++)
        assert.equal((await roundTrip(t, port, `ping ${i}`)).head, `ping ${i}`);
      broken = true;
      assert.equal((await roundTrip(t, port, 'ping')).error, 'ECONNRESET');
      assert.deepEqual(asked, ['db.test', 'db.test', 'db.test', 'db.test']);
      assert.deepEqual(forwarder.stats().failedDials, { ENOTFOUND: 1 });
    });

    test('a target port net.connect rejects: reset, no crash', quick, async (t) => {
      const { forwarder, port } = await forwardTo(t, 70_000);
      for (let i = 0; i < 2; i++) assert.equal((await roundTrip(t, port, 'x')).error, 'ECONNRESET');
      assert.deepEqual(forwarder.stats().failedDials, { ERR_SOCKET_BAD_PORT: 2 });
    });

    test('a host name target (localhost) through the system resolver', quick, async (t) => {
      const echo = await echoServer(t, '127.0.0.1');
      const { port } = await forwardTo(t, { host: 'localhost', port: echo.port });
      assert.equal((await roundTrip(t, port, 'via localhost')).head, 'via localhost');
    });
  });

  describe(`close (${label})`, { skip }, () => {
    test('close() resets live and dialling connections, promptly', quick, async (t) => {
      const echo = await echoServer(t);
      const { forwarder, port } = await forwardTo(t, echo.port);
      const stuck = await startForwarder(planned({ host: REMOTE, port: await unansweredPort(t) }), {
        acceptPath,
        threads,
      });
      t.after(() => stuck.close());
      const { clients, ends: outcomes } = dialObserved(t, port, 2);
      for (const client of clients) {
        client.write('live');
        await waitFor('echo', () => client.bytesRead > 0);
      }
      const dialling = observe(dial(t, stuck.addresses[0]?.port ?? 0));
      await waitFor('dialling', () => stuck.stats().active === 1);

      const started = Date.now();
      const closing = forwarder.close();
      assert.equal(forwarder.close(), closing, 'idempotent');
      await Promise.all([closing, stuck.close()]);
      assert.ok(Date.now() - started < 1000, `closed in ${Date.now() - started} ms`);
      for (const outcome of await Promise.all(outcomes)) assert.equal(outcome.error, 'ECONNRESET');
      assert.equal((await dialling).ended, false);
      assert.deepEqual([forwarder.stats().active, stuck.stats().active], [0, 0]);
      assert.equal((await observe(dial(t, port))).error, 'ECONNREFUSED');
    });
    test('reset() closes a socket whose FIN is still pending', quick, async (t) => {
      // An app that sends its last bytes and FIN and exits at once leaves linkfwd's end() towards
      // the target pending when the connections are aborted. libuv refuses a reset then; the
      // socket must still close, or close() (and linkfwd's exit) would hang.
      const peer = await serve(t);
      const socket = dial(t, peer.port, REMOTE);
      await once(socket, 'connect');
      socket.write('last words');
      socket.end();
      assert.equal(socket.writableEnded && !socket.writableFinished, true, 'shutdown pending');
      const closed = new Promise((resolve) => socket.once('close', resolve));
      reset(socket);
      await closed;
    });
  });
}
