/**
 * Waiting until a forwarder serves each of its endpoints: a TCP port accepts, a Unix socket
 * accepts, a UDP port echoes a datagram (UDP has no handshake; every UDP target is an echo).
 */
import { connect } from 'node:net';
import { waitFor } from '../test/helpers/sockets.js';
import { type Managed, recordPort, waitForPort } from './processes.js';
import { udpEchoes } from './udp-client.js';
import { type Endpoint, libpqSocket } from './upstreams.js';

function unixAccepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Polls every endpoint until it is served, for at most 15 s each; fails early, with what the
 * process printed, when `m` exits first. TCP ports go into the manifest (the smoke test checks
 * that nothing accepts on them afterwards).
 */
export async function endpointsReady(
  endpoints: Record<string, Endpoint>,
  m: Managed,
  stderr: () => string,
): Promise<void> {
  let exited: number | undefined;
  void m.exited.then((code) => {
    exited = code;
  });
  const served = (what: string, probe: () => Promise<boolean>) =>
    waitFor(
      `${m.name} to ${what}`,
      () => {
        if (exited !== undefined) throw new Error(`${m.name} exited with ${exited}: ${stderr()}`);
        return probe();
      },
      15_000,
      25,
    );
  for (const e of Object.values(endpoints)) {
    if (e.udp) {
      await served(`echo on udp ${e.host}:${e.port}`, () => udpEchoes(e.host, e.port));
    } else if (e.unixListener) {
      const path = libpqSocket(e.host, e.port);
      await served(`accept on ${path}`, () => unixAccepts(path));
    } else {
      await waitForPort(e.host, e.port, 15_000, m, stderr);
      recordPort(e.host, e.port);
    }
  }
}
