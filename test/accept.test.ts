import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { type AcceptPath, SERVER_OPTIONS, takeClients } from '../src/forward/accept.js';
import { Leg } from '../src/forward/data-path.js';
import { startForwarder } from '../src/forward/forwarder.js';
import { dial, echoServer, REMOTE } from './helpers/sockets.js';

const quick = { timeout: 10_000 };

/** Listens on 127.0.0.1, takes clients with `path`, and records how the first one arrives. */
async function firstClient(t: test.TestContext, path: AcceptPath) {
  const server = createServer(SERVER_OPTIONS);
  server.listen({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  let connectionEvents = 0;
  server.on('connection', () => (connectionEvents += 1));
  const arrived = new Promise<{ client: Socket; viaOnread: boolean }>((resolve) => {
    const taken = takeClients(
      server,
      (client, viaOnread) => resolve({ client, viaOnread }),
      () => {},
      path,
    );
    assert.equal(taken, path);
  });
  dial(t, (server.address() as { port: number }).port);
  const { client, viaOnread } = await arrived;
  // The fallback's server.close() waits for its sockets: destroy the client first.
  t.after(() => {
    client.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return { client, viaOnread, connectionEvents };
}

describe('the accept path (forward/accept.ts)', () => {
  // The canary: Node's listening handle still has `onconnection`, and linkfwd takes it. If a
  // Node release renames it, this fails instead of linkfwd dropping silently to the fallback.
  test(`the fast path is active on this Node (${process.version})`, quick, async (t) => {
    const echo = await echoServer(t, REMOTE);
    const forwarder = await startForwarder({
      listen: [{ host: '127.0.0.1', port: 0 }],
      target: { host: REMOTE, port: echo.port },
      origin: 'canary',
      source: 'flag',
      explicit: true,
    });
    t.after(() => forwarder.close());
    assert.equal(forwarder.acceptPath, 'fast');
  });

  test(
    'fast: a raw handle becomes a paused Leg reading through onread; no connection event',
    quick,
    async (t) => {
      const { client, viaOnread, connectionEvents } = await firstClient(t, 'fast');
      assert.equal(viaOnread, true);
      assert.ok(client instanceof Leg);
      assert.equal(client.isPaused(), true);
      assert.equal(connectionEvents, 0);
    },
  );

  test("fallback: Node's own paused socket through the connection event", quick, async (t) => {
    const { client, viaOnread, connectionEvents } = await firstClient(t, 'fallback');
    assert.equal(viaOnread, false);
    assert.ok(!(client instanceof Leg));
    assert.equal(client.isPaused(), true);
    assert.equal(connectionEvents, 1);
  });
});
