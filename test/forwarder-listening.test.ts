import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { LinkfwdError } from '../src/errors.js';
import { startForwarder, startForwarders } from '../src/forward/forwarder.js';
import type { ForwarderOptions } from '../src/forward/settings.js';
import type { ListenAddress, PlannedForward } from '../src/plan/index.js';
import { planned, quick, recorder } from './forwarder-matrix.js';
import { echoServer, freePort, REMOTE, roundTrip, serve } from './helpers/sockets.js';

const db = { host: 'db', port: 5432 };

const isListenError = (cause: string) => (error: unknown) =>
  error instanceof LinkfwdError &&
  error.code === 'ERR_LINKFWD_LISTEN' &&
  (error.cause as NodeJS.ErrnoException).code === cause;

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
