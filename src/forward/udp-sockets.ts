/*
 * The socket-level pieces of UDP forwards (forward/udp.ts): buffer sizes, binding, closing,
 * and the lookup that listeners use for their replies.
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { formatEndpoint } from '../plan/index.js';

const MiB = 1024 * 1024;
/**
 * Kernel buffers of a listener: a burst from many clients waits here while Node is busy. The
 * kernel caps them (net.core.rmem_max, wmem_max); asking for more is harmless.
 */
export const LISTENER_BUFFER = 4 * MiB;
/** Kernel buffers of one flow's upstream socket. */
export const FLOW_BUFFER = 1 * MiB;
/** Datagrams a flow holds while its target's name is resolved; later ones are dropped. */
export const PENDING_MAX = 64;

/**
 * A listener sends only to addresses it read from a datagram: IP literals of its own family.
 * Node would pass each through `dns.lookup` (validation and a tick per reply); this hands it
 * back as it is. Node's dgram calls it with the socket's family (4 or 6), so no test of the
 * address (a regular expression per reply) is needed.
 */
export function literalLookup(
  address: string,
  family: unknown,
  callback: (error: null, address: string, family: number) => void,
): void {
  callback(null, address, family === 6 || (family !== 4 && isIPv6(address)) ? 6 : 4);
}

export function bind(socket: Socket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

export function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // closed already
    }
  });
}

export function peerName(client: RemoteInfo): string {
  return formatEndpoint({ host: client.address, port: client.port });
}
