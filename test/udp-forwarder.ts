// A UDP forwarder for the udp-*.test.ts files that test it through the library. It starts the
// forwarder of src/, so it lives beside the tests rather than in test/helpers/, which imports
// nothing from src/ (test/helpers-direction.test.ts).
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { startForwarder } from '../src/forward/forwarder.js';
import type { ForwarderOptions } from '../src/forward/settings.js';
import type { ListenAddress, PlannedForward } from '../src/plan/index.js';
import type { Endpoint } from '../src/plan/spec.js';

const LOOPBACK: ListenAddress[] = [
  { host: '127.0.0.1', port: 0 },
  { host: '::1', port: 0, optional: true },
];
export const quick = { timeout: 15_000 };

/** A UDP forward to `target` from `listen` (127.0.0.1 and ::1, one ephemeral port). */
export function planned(target: Endpoint, listen = LOOPBACK): PlannedForward {
  const origin = `0:${target.host}:${target.port}/udp`;
  return { listen, target, origin, source: 'flag', explicit: true, protocol: 'udp' };
}

/** A forwarder of {@link planned} to `target`, closed after the test, and its port. */
export async function forwardUdp(t: TestContext, target: Endpoint, options: ForwarderOptions = {}) {
  const forwarder = await startForwarder(planned(target), options);
  t.after(() => forwarder.close());
  assert.equal(forwarder.acceptPath, 'none');
  return { forwarder, port: forwarder.addresses[0]?.port ?? 0 };
}
