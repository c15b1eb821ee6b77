import type { TestContext } from 'node:test';
import { dialObserved, type Observed } from './sockets.js';

/**
 * Connects `count` clients at once and observes each from the start. Resolves when each has
 * connected or already closed: a client linkfwd resets at once (over a limit) can see the RST
 * before its own connect completes, which is a reset, not a failure to connect.
 */
export async function connectAll(t: TestContext, port: number, count: number): Promise<Observed> {
  const { clients, ends } = dialObserved(t, port, count);
  await Promise.all(
    clients.map(
      (client) =>
        new Promise<void>((resolve) => {
          client.once('connect', () => resolve());
          client.once('close', () => resolve());
        }),
    ),
  );
  return { clients, ends };
}
