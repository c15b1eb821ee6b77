/**
 * The Node upstreams, run as their own process so they never share an event loop with the
 * client or the forwarder under test. Usage: `upstream-server.ts HOST`; prints one JSON line
 * `{"echo": port, "sink": port}` once both listen, then serves until killed.
 *
 * - echo: writes back whatever arrives; ends when the client ends (ping-pong, connection rate,
 *   idle connections).
 * - sink: counts what arrives; when the client ends, replies with the count as a 64-bit
 *   big-endian integer and closes (bulk throughput measured as bytes delivered).
 */
import net from 'node:net';

const host = process.argv[2] ?? '127.0.0.2';
const BACKLOG = 4096;

const echo = net.createServer({ noDelay: true }, (socket) => {
  socket.on('data', (chunk) => socket.write(chunk));
  socket.on('error', () => socket.destroy());
});

const sink = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
  let received = 0;
  socket.on('data', (chunk) => {
    received += chunk.length;
  });
  socket.on('end', () => {
    const reply = Buffer.alloc(8);
    reply.writeBigUInt64BE(BigInt(received));
    socket.end(reply);
  });
  socket.on('error', () => socket.destroy());
});

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0, backlog: BACKLOG }, () => {
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

const [echoPort, sinkPort] = await Promise.all([listen(echo), listen(sink)]);
process.stdout.write(`${JSON.stringify({ echo: echoPort, sink: sinkPort })}\n`);
process.on('SIGTERM', () => process.exit(0));
