import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { LookupFunction, Socket } from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import { LinkfwdError } from '../src/errors.js';
import { reset } from '../src/forward/connection.js';
import { supportsReusePort } from '../src/forward/cpus.js';
import { startForwarder, startForwarders } from '../src/forward/forwarder.js';
import type { ForwarderOptions } from '../src/forward/settings.js';
import type { Logger } from '../src/log.js';
import type { ListenAddress, PlannedForward } from '../src/plan/plan.js';
import type { Endpoint } from '../src/plan/spec.js';
import {
  dial,
  dialObserved,
  echoServer,
  freePort,
  type Outcome,
  observe,
  REMOTE,
  resetBehindDataIsReported,
  roundTrip,
  sendRepeated,
  serve,
  sha256,
  unansweredPort,
  waitFor,
} from './helpers/sockets.js';

const LOOPBACK: ListenAddress[] = [
  { host: '127.0.0.1', port: 0 },
  { host: '::1', port: 0, optional: true },
];
const MiB = 1024 * 1024;
const quick = { timeout: 10_000 };
const db = { host: 'db', port: 5432 };

function planned(target: Endpoint, extra: Partial<PlannedForward> = {}): PlannedForward {
  const origin = `0:${target.host}:${target.port}`;
  return { listen: LOOPBACK, target, origin, source: 'flag', explicit: true, ...extra };
}

/**
 * A forwarder on 127.0.0.1 and ::1 (one ephemeral port) to `target` (a bare number is a port on
 * {@link REMOTE}), closed after the test.
 */
async function forwardToAny(
  t: TestContext,
  target: Endpoint | number,
  options: ForwarderOptions = {},
) {
  const endpoint = typeof target === 'number' ? { host: REMOTE, port: target } : target;
  const forwarder = await startForwarder(planned(endpoint), options);
  t.after(() => forwarder.close());
  if (options.acceptPath !== undefined) assert.equal(forwarder.acceptPath, options.acceptPath);
  const port = forwarder.addresses[0]?.port ?? 0;
  return { forwarder, port };
}

function recorder(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (message) => warnings.push(message), error: () => {} };
}

/** The most a TCP send plus receive buffer may hold (Linux maxima, or 16 MiB elsewhere). */
function kernelBufferMax(): number {
  try {
    const max = (file: string) => Number(readFileSync(file, 'utf8').trim().split(/\s+/)[2]);
    return max('/proc/sys/net/ipv4/tcp_wmem') + max('/proc/sys/net/ipv4/tcp_rmem');
  } catch {
    return 16 * MiB;
  }
}

const isListenError = (cause: string) => (error: unknown) =>
  error instanceof LinkfwdError &&
  error.code === 'ERR_LINKFWD_LISTEN' &&
  (error.cause as NodeJS.ErrnoException).code === cause;

/**
 * The behaviour matrix, run once per accept path: the fast path (the listener's accept hook)
 * and Node's own net.Server accept, with the same options (forward/accept.ts).
 */
const VARIANTS = [
  { acceptPath: 'fast', threads: 1, label: 'fast accept path' },
  { acceptPath: 'fallback', threads: 1, label: 'fallback accept path' },
  { acceptPath: 'fast', threads: 2, label: 'fast accept path, 2 threads' },
] as const;
/** Threads need reusePort (Node 22.12+); on an older Node that variant skips. */
const noThreads = supportsReusePort()
  ? false
  : `Node ${process.versions.node} has no reusePort: forwarding threads need Node 22.12 or later`;
/** A lookup function cannot be posted to a worker thread: it serves the main thread only. */
const LOOKUP_MAIN_ONLY = 'a lookup function runs in the main thread only (workers use dns.lookup)';

for (const { acceptPath, threads, label } of VARIANTS) {
  /** {@link forwardToAny} on this accept path, with this many forwarding threads. */
  const forwardTo = (t: TestContext, target: Endpoint | number, options: ForwarderOptions = {}) =>
    forwardToAny(t, target, { acceptPath, threads, ...options });
  const skip = threads > 1 ? noThreads : false;

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

describe('listening', () => {
  /** A port free on 127.0.0.1 but taken on ::1 by another server. */
  async function takenOnIPv6Only(t: TestContext) {
    const port = await freePort('127.0.0.1');
    await serve(t, undefined, '::1', port);
    return port;
  }
  const v4 = (port: number): ListenAddress => ({ host: '127.0.0.1', port });
  const v6 = (port: number): ListenAddress => ({ host: '::1', port });

  test('a port taken on ::1 only: explicit forward fails, 127.0.0.1 freed', quick, async (t) => {
    const port = await takenOnIPv6Only(t);
    const origin = `${port}:db:5432`;
    const forward = planned(db, { listen: [v4(port), { ...v6(port), optional: true }], origin });
    await assert.rejects(startForwarder(forward), (error: unknown) => {
      assert.ok(isListenError('EADDRINUSE')(error));
      assert.equal(
        (error as Error).message,
        `cannot listen on [::1]:${port}: address already in use (-f ${port}:db:5432)`,
      );
      return true;
    });
    // All or none: the 127.0.0.1 listener that did bind was closed again.
    await (await startForwarder(planned(db, { listen: [v4(port)] }))).close();
  });

  test('discovered forward cannot bind: skipped + warning; strict rejects', quick, async (t) => {
    const echo = await echoServer(t);
    const port = await takenOnIPv6Only(t);
    const good = planned({ host: REMOTE, port: echo.port });
    const discovered = planned(db, {
      listen: [v4(port), v6(port)],
      origin: 'DB_PORT_5432_TCP',
      source: 'link',
      explicit: false,
    });
    const logger = recorder();
    const group = await startForwarders([good, discovered], { logger });
    t.after(() => group.close());
    assert.deepEqual(
      group.forwarders.map((f) => f.forward),
      [good],
    );
    assert.deepEqual(
      group.skipped.map((s) => s.origin),
      ['DB_PORT_5432_TCP'],
    );
    assert.equal(logger.warnings.length, 1);
    const goodPort = group.forwarders[0]?.addresses[0]?.port ?? 0;
    assert.equal((await roundTrip(t, goodPort, 'still here')).head, 'still here');
    await group.close();

    // Explicit forwards are all-or-nothing; with strict, discovered ones too.
    const failing: [PlannedForward, ForwarderOptions][] = [
      [{ ...discovered, explicit: true }, {}],
      [discovered, { strict: true }],
    ];
    for (const [forward, options] of failing) {
      await assert.rejects(startForwarders([good, forward], options), isListenError('EADDRINUSE'));
    }
  });

  test('all or nothing across forwards: the ones started are closed again', quick, async (t) => {
    const port = await takenOnIPv6Only(t);
    const first = planned(db, { listen: [v4(await freePort('127.0.0.1'))] });
    const second = planned(db, { listen: [v6(port)] });
    await assert.rejects(startForwarders([first, second]), isListenError('EADDRINUSE'));
    await (await startForwarder(first)).close();
  });

  test('an optional address the host lacks is left out; required fails', quick, async () => {
    const lacking = { host: '::2', port: 0 }; // EADDRNOTAVAIL, like ::1 on a host without IPv6
    const forwarder = await startForwarder(
      planned(db, { listen: [v4(0), { ...lacking, optional: true }] }),
    );
    assert.deepEqual(forwarder.addresses, [v4(forwarder.addresses[0]?.port ?? 0)]);
    await forwarder.close();
    await assert.rejects(
      startForwarder(planned(db, { listen: [v4(0), lacking] })),
      isListenError('EADDRNOTAVAIL'),
    );
  });
});
