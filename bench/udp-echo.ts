/**
 * The UDP upstream of the bench's UDP cases, a process of its own: `udp-echo.ts HOST` echoes
 * every datagram to its sender and prints `{"port": N}` once it listens.
 */
import { createSocket } from 'node:dgram';

const host = process.argv[2] ?? '127.0.0.2';
const socket = createSocket({ type: 'udp4', recvBufferSize: 8 << 20, sendBufferSize: 8 << 20 });
socket.on('message', (data, from) => socket.send(data, from.port, from.address));
socket.bind(0, host, () => {
  process.stdout.write(`${JSON.stringify({ port: socket.address().port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
