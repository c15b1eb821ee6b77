import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { RssSampler, rss } from '../../test/helpers/proc.js';
import { startUpstream, within } from '../../test/helpers/process.js';
import {
  dial,
  dialObserved,
  echoServer,
  freePort,
  REMOTE,
  roundTrip,
  unansweredPort,
  waitFor,
} from '../../test/helpers/sockets.js';
import { privateResolverCommand, startListening, writeUntilClosed } from '../harness.js';
import { figure, MIB, type Scale } from '../scale.js';

/** Upstream faults: whatever the target does, clients see what they would have seen dialling it. */
export function upstreamFaultCases(scale: Scale): void {
  const timeout = scale.name === 'full' ? 120_000 : 30_000;

  describe('upstream faults', () => {
    test('upstream SIGKILLed mid-stream: every client reset within a second; new connections work once it is back', {
      timeout,
    }, async (t) => {
      const upstreamPort = await freePort();
      let upstream = await startUpstream(t, 'echo', upstreamPort);
      const port = await freePort('127.0.0.1');
      await startListening(t, ['-f', `${port}:${REMOTE}:${upstreamPort}`], [port]);

      const chunk = randomBytes(64 * 1024);
      const dialled = dialObserved(t, port, scale.killedClients, '127.0.0.1', true);
      const clients = dialled.clients.map((socket) => {
        let received = 0;
        let closedAt = 0;
        socket.on('data', (data: Buffer) => {
          received += data.length;
        });
        socket.on('close', () => {
          closedAt = Date.now();
        });
        void writeUntilClosed(socket, chunk);
        return { socket, received: () => received, closedAt: () => closedAt };
      });
      await waitFor(
        'every client to be mid-stream (1 MiB echoed)',
        () => clients.every((c) => c.received() >= MIB),
        20_000,
      );

      const killedAt = Date.now();
      upstream.child.kill('SIGKILL');
      const outcomes = await within(Promise.all(dialled.ends), 5000, 'every client to be closed');
      const delays = clients.map((c) => c.closedAt() - killedAt);
      // Every stream ends in an error, never cleanly. (A killed process's kernel sends a FIN
      // where nothing was left unread, then a RST to the next write: linkfwd passes on both.)
      // A client whose write meets the RST after its ECONNRESET was handed out sees EPIPE.
      assert.deepEqual(
        outcomes.map((o) => (o.error === 'EPIPE' ? 'ECONNRESET' : o.error)),
        clients.map(() => 'ECONNRESET'),
        'every client was reset, not ended',
      );
      const epipe = outcomes.filter((o) => o.error === 'EPIPE').length;
      const slowest = Math.max(...delays);
      assert.ok(slowest < 1000, `a client was reset only after ${slowest} ms`);

      await upstream.exited;
      const whileDown = await roundTrip(t, port, 'anyone?');
      assert.equal(whileDown.error, 'ECONNRESET', 'while the upstream is down clients are reset');
      upstream = await startUpstream(t, 'echo', upstreamPort);
      const back = await roundTrip(t, port, 'back?');
      assert.deepEqual([back.head, back.ended, back.error], ['back?', true, undefined]);

      figure(
        t,
        scale,
        `upstream SIGKILL, ${scale.killedClients} streaming clients: slowest reset after`,
        slowest,
        'ms',
      );
      figure(
        t,
        scale,
        'upstream SIGKILL: clients that saw ECONNRESET / EPIPE',
        `${outcomes.length - epipe} / ${epipe}`,
      );
      figure(t, scale, 'upstream SIGKILL: first round trip after the restart', back.ms, 'ms');
    });

    test('an upstream that accepts and never reads: backpressure holds, linkfwd RSS bounded', {
      timeout,
    }, async (t) => {
      const upstream = await startUpstream(t, 'never-read');
      const port = await freePort('127.0.0.1');
      const linkfwd = await startListening(t, ['-f', `${port}:${REMOTE}:${upstream.port}`], [port]);
      const baseline = rss(linkfwd.pid);
      const memory = new RssSampler(linkfwd.pid);
      t.after(() => memory.stop());

      const chunk = randomBytes(64 * 1024);
      let lastProgress = Date.now();
      const taken: number[] = [];
      const writers = Array.from({ length: scale.stalledClients }, (_, i) => {
        const socket = dial(t, port);
        taken[i] = 0;
        return writeUntilClosed(socket, chunk, scale.stalledBytes, (total) => {
          taken[i] = total;
          lastProgress = Date.now();
        });
      });
      let finished = false;
      void Promise.all(writers).then(() => {
        finished = true;
      });
      await waitFor(
        'every writer to stall (no progress for 1.5 s)',
        () => {
          if (finished)
            throw new Error(`the writers were never held back: ${taken.join(', ')} bytes`);
          return Date.now() - lastProgress > 1500;
        },
        60_000,
      );
      const peak = memory.stop();
      const growth = peak - baseline;
      const most = Math.max(...taken);

      // Per connection the kernel buffers at most a few MiB on each of its four socket buffers;
      // a linkfwd that queued in user space would take the whole stalledBytes.
      assert.ok(most < 32 * MIB, `a client got ${most / MIB} MiB into a connection nobody reads`);
      assert.ok(
        growth < 8 * MIB * scale.stalledClients + 16 * MIB,
        `linkfwd grew ${growth / MIB} MiB`,
      );
      assert.equal(linkfwd.child.exitCode, null);

      const name = `upstream never reads, ${scale.stalledClients} clients each trying ${scale.stalledBytes / MIB} MiB`;
      figure(
        t,
        scale,
        `${name}: most taken by one connection before it stalled`,
        most / MIB,
        'MiB',
      );
      figure(t, scale, `${name}: linkfwd RSS growth`, growth / MIB, 'MiB');
    });

    test('an upstream that never answers a SYN: clients reset at --connect-timeout', {
      timeout,
    }, async (t) => {
      const target = await unansweredPort(t);
      const port = await freePort('127.0.0.1');
      const connectTimeout = 1000;
      await startListening(
        t,
        ['--connect-timeout', `${connectTimeout}ms`, '-f', `${port}:${REMOTE}:${target}`],
        [port],
      );
      const outcomes = await Promise.all(
        Array.from({ length: 5 }, (_, i) => roundTrip(t, port, `hello ${i}`)),
      );
      assert.deepEqual(
        outcomes.map((o) => o.error),
        outcomes.map(() => 'ECONNRESET'),
      );
      const times = outcomes.map((o) => o.ms);
      assert.ok(
        times.every((ms) => ms >= connectTimeout - 50 && ms < connectTimeout + 1000),
        `reset after ${times.join(', ')} ms`,
      );
      figure(
        t,
        scale,
        `unanswered SYN, --connect-timeout ${connectTimeout}ms: clients reset after`,
        `${Math.min(...times)}–${Math.max(...times)} ms`,
      );
    });

    test('a target name that stops resolving: clean reset, and back when it resolves again', {
      timeout,
    }, async (t) => {
      const echo = await echoServer(t);
      const dir = mkdtempSync(join(tmpdir(), 'linkfwd-resolver-'));
      const hosts = join(dir, 'hosts');
      const nsswitch = join(dir, 'nsswitch.conf');
      const resolving = `${REMOTE} linkfwd-db.test\n`;
      writeFileSync(hosts, resolving);
      writeFileSync(nsswitch, 'hosts: files\n');
      const [named, never] = [await freePort('127.0.0.1'), await freePort('127.0.0.1')];
      const linkfwd = await startListening(
        t,
        [
          '-f',
          `${named}:linkfwd-db.test:${echo.port}`,
          '-f',
          `${never}:linkfwd-test.invalid:${echo.port}`,
        ],
        [named, never],
        { command: privateResolverCommand(hosts, nsswitch) },
      );

      assert.equal((await roundTrip(t, named, 'resolves')).head, 'resolves');
      writeFileSync(hosts, '# linkfwd-db.test is gone\n'); // in place: the bind mount follows the inode
      const gone = await roundTrip(t, named, 'gone?');
      const invalid = await roundTrip(t, never, 'never?');
      for (const outcome of [gone, invalid]) {
        assert.deepEqual([outcome.bytes, outcome.error], [0, 'ECONNRESET']);
        assert.ok(outcome.ms < 1000, `reset after ${outcome.ms} ms`);
      }
      writeFileSync(hosts, resolving);
      assert.equal((await roundTrip(t, named, 'back')).head, 'back');
      assert.match(linkfwd.stderr, /cannot reach linkfwd-db\.test:\d+ .*not found|ENOTFOUND/i);
      assert.equal(linkfwd.child.exitCode, null);
      figure(t, scale, 'target name stops resolving: reset after', gone.ms, 'ms');
      figure(t, scale, 'target name never resolves (.invalid): reset after', invalid.ms, 'ms');
    });
  });
}
