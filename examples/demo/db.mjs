// A demo "database": a TCP server with a one-line protocol that, like PostgreSQL, MySQL or
// SMTP, speaks first. It greets, answers `WHO` with where it lives and who dialled it, and
// closes on `QUIT`.
import { createServer } from 'node:net';

/**
 * Starts the demo database on host:port. Resolves with the listening server; rejects with a
 * readable message when the address is taken.
 * @param {string} host
 * @param {number} port
 * @returns {Promise<import('node:net').Server>}
 */
export function startDemoDb(host, port) {
  const server = createServer((socket) => {
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    socket.write('DEMO-DB 1.0 ready\n');
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n')) {
        const command = buffered.slice(0, end).trim().toUpperCase();
        buffered = buffered.slice(end + 1);
        if (command === 'WHO') {
          socket.write(`demo database on ${host}:${port}; you came from ${socket.remoteAddress}\n`);
        } else if (command === 'QUIT') {
          socket.end('BYE\n');
        } else {
          socket.write(`ERR unknown command ${JSON.stringify(command)} (try WHO or QUIT)\n`);
        }
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error) => {
      const reason =
        /** @type {NodeJS.ErrnoException} */ (error).code === 'EADDRINUSE'
          ? `${host}:${port} is already in use; pick another port with DEMO_PORT=<port>`
          : `cannot listen on ${host}:${port}: ${error.message}`;
      reject(new Error(reason));
    });
    server.listen(port, host, () => resolve(server));
  });
}
