import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import { isLinkfwdError } from '../src/errors.js';
import { BULK_BUDGET, bulkBytes } from '../src/forward/data-path.js';
import { startForwarder, startForwarders } from '../src/forward/forwarder.js';
import type { PlannedForward } from '../src/plan/index.js';
import { run } from '../src/run.js';
import { noThreads as skip } from './forwarder-matrix.js';
import { connectAll } from './helpers/clients.js';
import { dial, echoServer, observe, REMOTE, serve, sha256, waitFor } from './helpers/sockets.js';

function planned(port: number, explicit = true): PlannedForward {
  return {
    listen: [{ host: '127.0.0.1', port: 0 }],
    target: { host: REMOTE, port },
    origin: `0:${REMOTE}:${port}`,
    source: explicit ? 'flag' : 'link',
    explicit,
  } as PlannedForward;
}

describe('forwarding threads', { skip }, () => {
  test('clients spread over every thread, stats add up exactly, one port for all', async (t) => {
    const target = await echoServer(t);
    const forwarder = await startForwarder(planned(target.port), { threads: 2 });
    t.after(() => forwarder.close());
    const port = forwarder.addresses[0]?.port ?? 0;
    assert.notEqual(port, 0);
    const sizes = Array.from({ length: 64 }, (_, i) => 1000 + i * 37);
    const outcomes = await Promise.all(
      sizes.map(async (size) => {
        const client = dial(t, port);
        const seen = observe(client);
        const data = randomBytes(size);
        client.end(data);
        const outcome = await seen;
        return outcome.sha256 === sha256(data) && outcome.bytes === size;
      }),
    );
    assert.ok(outcomes.every(Boolean), 'every client got its bytes back');
    const total = sizes.reduce((a, b) => a + b, 0);
    await waitFor('the connections released', () => forwarder.stats().active === 0);
    const stats = forwarder.stats();
    assert.equal(stats.accepted, 64);
    assert.equal(stats.bytesIn, total);
    assert.equal(stats.bytesOut, total);
    assert.equal(stats.threads?.length, 2);
    assert.equal(
      (stats.threads ?? []).reduce((a, b) => a + b, 0),
      64,
    );
    // 64 clients hashed over two listeners: a thread without any would mean it never bound.
    assert.ok(
      (stats.threads ?? []).every((n) => n > 0),
      `spread ${stats.threads}`,
    );
  });

  test('--max-connections holds for the forward across threads, exactly, warned once', async (t) => {
    const target = await serve(t);
    const warnings: string[] = [];
    const logger = { warn: (m: string) => warnings.push(m), error: () => {} };
    const forwarder = await startForwarder(planned(target.port), {
      threads: 2,
      maxConnections: 5,
      logger,
    });
    t.after(() => forwarder.close());
    const port = forwarder.addresses[0]?.port ?? 0;
    const { clients, ends } = await connectAll(t, port, 40);
    await waitFor('every client taken or reset', () => {
      const { accepted, rejected } = forwarder.stats();
      return accepted + rejected === 40;
    });
    const stats = forwarder.stats();
    assert.deepEqual([stats.accepted, stats.active, stats.rejected], [5, 5, 35]);
    assert.ok((stats.threads ?? []).every((n) => n >= 0));
    await waitFor('the warning', () => warnings.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(warnings, [
      `-f 0:${REMOTE}:${target.port}: 5 connections open, new clients are reset`,
    ]);
    for (const client of clients) client.destroy();
    await Promise.all(ends);
  });

  test('onDialed (the dial latency metric) hears the dials of every thread', async (t) => {
    const target = await echoServer(t);
    const dials: number[] = [];
    const forwarder = await startForwarder(planned(target.port), {
      threads: 3,
      onDialed: (_forward, ms) => dials.push(ms),
    });
    t.after(() => forwarder.close());
    const port = forwarder.addresses[0]?.port ?? 0;
    for (let round = 0; round < 3; round++) {
      const outcomes = Array.from({ length: 10 }, () => {
        const client = dial(t, port);
        const seen = observe(client);
        client.end('ping');
        return seen;
      });
      for (const outcome of await Promise.all(outcomes)) assert.equal(outcome.head, 'ping');
    }
    await waitFor('the connections released', () => forwarder.stats().active === 0);
    const { accepted, threads = [] } = forwarder.stats();
    assert.equal(accepted, 30);
    assert.ok(threads.filter((n) => n > 0).length >= 2, `clients per thread: ${threads}`);
    await waitFor('a dial for each client', () => dials.length === 30);
    assert.ok(
      dials.every((ms) => ms >= 0 && ms < 10_000),
      `${dials}`,
    );
  });

  test('a bind that fails in one thread fails the forward everywhere (explicit: error)', async (t) => {
    const target = await serve(t);
    const forward = { ...planned(target.port), listen: [{ host: '127.0.0.1', port: 0 }] };
    await assert.rejects(
      startForwarders([forward], { threads: 3, threadBindFault: 2 }),
      (error: unknown) =>
        isLinkfwdError(error) &&
        error.code === 'ERR_LINKFWD_LISTEN' &&
        /^cannot listen on 127\.0\.0\.1:\d+: address already in use \(-f 0:127\.0\.0\.2:\d+\)$/.test(
          error.message,
        ),
    );
    // Discovered: skipped with the same reason, and its port is free again in every thread.
    const warnings: string[] = [];
    const logger = { warn: (m: string) => warnings.push(m), error: () => {} };
    const group = await startForwarders([planned(target.port, false)], {
      threads: 2,
      threadBindFault: 1,
      logger,
    });
    t.after(() => group.close());
    assert.equal(group.forwarders.length, 0);
    assert.equal(group.skipped.length, 1);
    assert.match(
      warnings[0] ?? '',
      /skipped: cannot listen on 127\.0\.0\.1:\d+: address already in use$/,
    );
  });

  test('a port left by a failed forward is bound by nobody: a plain listener gets it', async (t) => {
    const target = await serve(t);
    const fixed = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const forward = { ...planned(target.port), listen: [{ host: '127.0.0.1', port: fixed }] };
    await assert.rejects(startForwarders([forward], { threads: 2, threadBindFault: 1 }));
    // Without reusePort: would fail if any thread still held the port.
    const plain = createServer();
    t.after(() => plain.close());
    await new Promise<void>((resolve, reject) => {
      plain.once('error', reject);
      plain.listen(fixed, '127.0.0.1', () => resolve());
    });
  });

  test('the bulk-buffer budget is one for the process, every thread together', async (t) => {
    const MiB = 1024 * 1024;
    const data = randomBytes(8 * MiB);
    const target = await serve(t, (socket) => {
      socket.end(data);
    });
    const forwarder = await startForwarder(planned(target.port), { threads: 2 });
    t.after(() => forwarder.close());
    const port = forwarder.addresses[0]?.port ?? 0;
    const clients = Array.from({ length: 48 }, () => {
      const client = dial(t, port);
      client.pause();
      return client;
    });
    let peak = 0;
    let last = -1;
    let still = 0;
    await waitFor(
      'every thread to stop reading from its upstreams',
      () => {
        peak = Math.max(peak, bulkBytes());
        const { bytesOut, active } = forwarder.stats();
        still = bytesOut === last && active === 48 ? still + 1 : 0;
        last = bytesOut;
        return still >= 20;
      },
      20_000,
    );
    const stats = forwarder.stats();
    assert.ok(
      (stats.threads ?? []).every((n) => n > 0),
      `both threads stream (${stats.threads})`,
    );
    // Stalled, each stream holds a buffer of up to 1 MiB: 48 of them fill the budget. The main
    // thread's streams alone hold at most 1 MiB each, so a total over that counts the worker's.
    const stalled = bulkBytes();
    const mainStreams = Math.min(stats.threads?.[0] ?? 0, 31);
    assert.ok(stalled > mainStreams * MiB, `${stalled} bytes: every thread's buffers counted`);
    const outcomes = clients.map((client) => observe(client));
    for (const outcome of await Promise.all(outcomes)) {
      assert.deepEqual([outcome.bytes, outcome.sha256], [data.length, sha256(data)]);
    }
    assert.ok(peak > BULK_BUDGET / 2, `bulk reads in use (peak ${peak} bytes)`);
    assert.ok(peak <= BULK_BUDGET, `peak ${peak} bytes over the budget of ${BULK_BUDGET}`);
    await waitFor('the connections released', () => forwarder.stats().active === 0);
    assert.equal(bulkBytes(), 0);
  });

  test('close resets every connection in every thread and ends every worker', async (t) => {
    const target = await serve(t);
    const group = await startForwarders([planned(target.port)], { threads: 3 });
    const port = group.forwarders[0]?.addresses[0]?.port ?? 0;
    const { ends } = await connectAll(t, port, 24);
    await waitFor('24 connections', () => group.forwarders[0]?.stats().active === 24);
    assert.ok((group.forwarders[0]?.stats().threads ?? []).filter((n) => n > 0).length >= 2);
    assert.equal(group.threads?.running(), 2);
    await group.close();
    assert.equal(group.threads?.running(), 0);
    for (const outcome of await Promise.all(ends)) assert.equal(outcome.error, 'ECONNRESET');
  });

  test('a crashing thread is fatal: the app is stopped, run() fails with 125', async () => {
    const started = Date.now();
    let status: unknown;
    await assert.rejects(
      run({
        forwards: [`0:${REMOTE}:9`],
        threads: 2,
        links: false,
        command: [process.execPath, '-e', 'setTimeout(() => {}, 30000)'],
        onListening: (group) => group.threads?.crash(1),
      }).then((s) => {
        status = s;
      }),
      (error: unknown) =>
        isLinkfwdError(error) &&
        error.exitStatus === 125 &&
        error.message === 'forwarding thread 1 failed: crash injected by a test',
    );
    assert.equal(status, undefined);
    assert.ok(Date.now() - started < 10_000, 'the app was stopped, not waited for');
  });
});
