import { createSocket, type RemoteInfo, type Socket, type SocketType } from 'node:dgram';
import { once } from 'node:events';
import { isIPv6 } from 'node:net';
import type { TestContext } from 'node:test';

/** A UDP socket bound on `host` (port 0 unless given), closed after the test. */
export async function udpSocket(t: TestContext, host: string, port = 0): Promise<Socket> {
  const type: SocketType = isIPv6(host) ? 'udp6' : 'udp4';
  const socket = createSocket({ type, recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  socket.bind(port, host);
  await once(socket, 'listening');
  t.after(() => new Promise<void>((resolve) => socket.close(() => resolve())).catch(() => {}));
  return socket;
}

/** A UDP echo server on `host`: every datagram goes back to its sender; records who sent what. */
export async function udpEcho(t: TestContext, host: string, port = 0) {
  const socket = await udpSocket(t, host, port);
  const received: { data: Buffer; from: RemoteInfo }[] = [];
  socket.on('message', (data, from) => {
    received.push({ data, from });
    socket.send(data, from.port, from.address);
  });
  return { socket, port: socket.address().port, received };
}

/** The next datagram `socket` receives, or an error after `timeout` ms. */
export function nextDatagram(socket: Socket, timeout = 3000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off('message', onMessage);
      reject(new Error(`no datagram within ${timeout} ms`));
    }, timeout);
    const onMessage = (data: Buffer) => {
      clearTimeout(timer);
      resolve(data);
    };
    socket.once('message', onMessage);
  });
}

/** A UDP port on `host` that nothing is bound to right now. */
export async function freeUdpPort(host: string): Promise<number> {
  const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  socket.bind(0, host);
  await once(socket, 'listening');
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}
