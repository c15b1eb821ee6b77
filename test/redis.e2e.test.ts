import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, type TestContext, test } from 'node:test';
import { Redis } from 'ioredis';
import { cleanEnv } from './helpers/cli.js';
import { fixture, startLinkfwd, within } from './helpers/process.js';
import {
  dockerLinkEnv,
  missingServers,
  type Redis as Server,
  startRedis,
} from './helpers/services.js';
import { waitFor } from './helpers/sockets.js';

const skip = missingServers();

describe('Redis (127.0.0.3 only) through linkfwd', { skip }, () => {
  let server: Server;

  before(async () => {
    server = await startRedis();
  });

  after(async () => {
    await server?.destroy();
  });

  /** A subscriber to `channel` on host:port that collects messages; disconnected after the test. */
  async function subscribe(t: TestContext, host: string, channel: string) {
    const client = new Redis({
      host,
      port: server.port,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    const messages: string[] = [];
    let closedAt: number | undefined;
    client.on('error', () => {});
    client.on('message', (_from: string, message: string) => messages.push(message));
    client.on('end', () => {
      closedAt = Date.now();
    });
    t.after(() => client.disconnect());
    await client.subscribe(channel);
    return { client, messages, closedAt: () => closedAt };
  }

  test('a SUBSCRIBE stays open while the app shuts down on SIGTERM and still publishes its goodbye through the forward', async (t) => {
    const channel = `goodbye-${process.pid}`;
    const env = cleanEnv(dockerLinkEnv('cache', server.host, server.port));
    const linkfwd = startLinkfwd(
      t,
      fixture('redis-goodbye-app.mjs', String(server.port), channel, '3'),
      { env },
    );
    await linkfwd.waitForStdout(/^ready$/m);

    // Outside the app: one subscriber straight to the server, one through linkfwd's forward.
    const direct = await subscribe(t, server.host, channel);
    const forwarded = await subscribe(t, 'localhost', channel);
    assert.ok(
      ['127.0.0.1', '::1'].includes(forwarded.client.stream.remoteAddress ?? ''),
      'the forwarded subscriber reached linkfwd',
    );

    linkfwd.child.kill('SIGTERM');
    const { status, at } = await within(linkfwd.exited, 10_000, 'linkfwd to exit with its app');
    assert.equal(linkfwd.stderr, '');
    assert.deepEqual(linkfwd.lines(), ['ready', 'published to 3', 'heard: goodbye']);
    assert.equal(status, 3);

    await waitFor('the direct subscriber to hear goodbye', () => direct.messages.length > 0);
    assert.deepEqual(direct.messages, ['goodbye']);
    // Delivered before the app could exit: the app heard its own copy through linkfwd first.
    assert.deepEqual(forwarded.messages, ['goodbye']);
    // linkfwd drops what is still connected when its app has gone, within about a second.
    await waitFor('the forwarded subscriber to be cut', () => forwarded.closedAt() !== undefined);
    const cut = (forwarded.closedAt() ?? 0) - at;
    assert.ok(cut < 1500, `the forwarded subscriber was cut ${cut} ms after linkfwd exited`);
    assert.equal(direct.closedAt(), undefined, 'the server itself is untouched');
    assert.equal(await direct.client.publish(channel, 'still here'), 1);
    const refused = connect({ host: '127.0.0.1', port: server.port });
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    assert.equal(error.code, 'ECONNREFUSED', 'linkfwd no longer listens');
  });
});
