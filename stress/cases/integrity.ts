import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { limitedCommand, openFds, RssSampler, raiseOwnLimits } from '../../test/helpers/proc.js';
import { startUpstream } from '../../test/helpers/process.js';
import {
  dial,
  freePort,
  hashRepeated,
  type Outcome,
  observe,
  REMOTE,
  sendRepeated,
  serve,
  waitFor,
} from '../../test/helpers/sockets.js';
import { seconds, startListening } from '../harness.js';
import { figure, MIB, type Scale } from '../scale.js';

/** Integrity: every byte delivered exactly, in order, one big stream or many at once. */
export function integrityCases(scale: Scale): void {
  const timeout = scale.name === 'full' ? 240_000 : 30_000;

  describe('integrity', () => {
    const size = `${scale.bigTransfer / MIB} MiB`;
    test(`${size} each way through one connection, sha256 equal`, { timeout }, async (t) => {
      // Odd lengths: a lost, repeated or reordered block shifts every byte after it.
      const upChunk = randomBytes(MIB + 13);
      const downChunk = randomBytes(MIB + 29);
      const total = scale.bigTransfer;
      const expected = { up: hashRepeated(upChunk, total), down: hashRepeated(downChunk, total) };
      const target = await serve(t);
      const port = await freePort('127.0.0.1');
      const linkfwd = await startListening(t, ['-f', `${port}:${REMOTE}:${target.port}`], [port]);
      const memory = new RssSampler(linkfwd.pid);
      t.after(() => memory.stop());

      const started = Date.now();
      // Half-open allowed: the side that finishes first must not end the other one's sending.
      const client = dial(t, port, '127.0.0.1', true);
      const down = observe(client);
      const server = await target.next();
      const up = observe(server);
      await Promise.all([
        sendRepeated(client, upChunk, total).then(() => client.end()),
        sendRepeated(server, downChunk, total).then(() => server.end()),
      ]);
      const [received, sent] = await Promise.all([up, down]);
      const took = seconds(Date.now() - started);
      const peak = memory.stop();

      const summary = (o: Outcome) => [o.bytes, o.sha256, o.ended, o.error];
      assert.deepEqual(
        summary(received),
        [total, expected.up, true, undefined],
        'client → upstream',
      );
      assert.deepEqual(summary(sent), [total, expected.down, true, undefined], 'upstream → client');
      figure(t, scale, `${size} each way, one connection: time`, took, 's');
      figure(
        t,
        scale,
        `${size} each way, one connection: throughput each way`,
        total / MIB / took,
        'MiB/s',
      );
      figure(t, scale, `${size} each way, one connection: linkfwd peak RSS`, peak / MIB, 'MiB');
    });

    const clients = `${scale.clients} concurrent clients each echoing ${scale.bytesPerClient / 1024} KiB`;
    test(`${clients}, every byte exact`, { timeout }, async (t) => {
      // 65,536 where the hard limit allows; a sandbox without CAP_SYS_RESOURCE stops at its own.
      const { nofile } = raiseOwnLimits({ nofile: 65_536 });
      assert.ok(
        nofile > 2 * scale.clients + 100,
        `RLIMIT_NOFILE ${nofile} is too low for this case`,
      );
      const upstream = await startUpstream(t, 'echo');
      const port = await freePort('127.0.0.1');
      const linkfwd = await startListening(
        t,
        ['-f', `${port}:${REMOTE}:${upstream.port}`],
        [port],
        {
          command: limitedCommand({ nofile }),
        },
      );
      const memory = new RssSampler(linkfwd.pid);
      t.after(() => memory.stop());
      let peakFds = 0;
      const fdWatch = setInterval(() => {
        peakFds = Math.max(peakFds, openFds(linkfwd.pid));
      }, 50);
      t.after(() => clearInterval(fdWatch));

      // Each client sends the same bytes rotated by its own offset: no copies, and a reply
      // delivered to the wrong client cannot hash right.
      const base = randomBytes(scale.bytesPerClient);
      const plans = Array.from({ length: scale.clients }, (_, i) => {
        const offset = (i * 7919) % base.length;
        const pieces = [base.subarray(offset), base.subarray(0, offset)];
        const hash = createHash('sha256');
        for (const piece of pieces) hash.update(piece);
        return { pieces, sha256: hash.digest('hex') };
      });

      // All connected, and linkfwd holding every one of them (client and upstream legs), before
      // the first byte: the connections are concurrent in linkfwd, not only in this process.
      const sockets = plans.map(() => dial(t, port));
      const outcomes = sockets.map((socket) => observe(socket));
      let connected = 0;
      for (const socket of sockets) socket.once('connect', () => connected++);
      const idle = openFds(linkfwd.pid);
      await waitFor(
        `${scale.clients} connections open through linkfwd`,
        () => connected === scale.clients && openFds(linkfwd.pid) >= idle + 2 * scale.clients,
        30_000,
      );
      const started = Date.now();
      sockets.forEach((socket, i) => {
        for (const piece of plans[i]?.pieces ?? []) socket.write(piece);
        socket.end();
      });
      const seen = await Promise.all(outcomes);
      const took = seconds(Date.now() - started);
      clearInterval(fdWatch);
      const peak = memory.stop();

      const wrong = seen
        .map((o, i) => ({ i, o }))
        .filter(({ o, i }) => o.sha256 !== plans[i]?.sha256 || o.bytes !== base.length || o.error);
      assert.deepEqual(
        wrong.slice(0, 5).map(({ i, o }) => ({ client: i, bytes: o.bytes, error: o.error })),
        [],
        `${wrong.length} of ${scale.clients} clients got something else back`,
      );
      const moved = (scale.clients * scale.bytesPerClient) / MIB;
      figure(t, scale, `${clients}: time`, took, 's');
      figure(t, scale, `${clients}: aggregate throughput each way`, moved / took, 'MiB/s');
      figure(t, scale, `${clients}: linkfwd peak RSS`, peak / MIB, 'MiB');
      figure(t, scale, `${clients}: linkfwd peak open fds (limit ${nofile})`, peakFds);
      // What busy connections may hold: the bulk read budget (32 MiB) twice over, a 64 KiB
      // chunk queued each way per connection, and the heap. Megabytes per connection fail.
      const bound = 160 * MIB + scale.clients * 256 * 1024;
      assert.ok(peak < bound, `linkfwd peak RSS ${peak / MIB} MiB, over ${bound / MIB} MiB`);
    });
  });
}
