// The app of examples/kubernetes/deployment.yaml (`node server.js`): it knows only localhost.
// It asks Redis (PING) and PostgreSQL (an SSLRequest, answered with one byte, S or N) through
// linkfwd's forwards, prints both answers, then serves HTTP on 8080 as the manifest says.
const net = require('node:net');
const http = require('node:http');

function ask(port, bytes) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, 'localhost', () => socket.write(bytes));
    socket.once('data', (data) => {
      resolve(data.toString('latin1').trim());
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

(async () => {
  const pong = await ask(6379, 'PING\r\n');
  const ssl = await ask(5432, Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]));
  console.log(`web: redis ${pong}, postgres ${ssl}`);
  http.createServer((_, res) => res.end('web\n')).listen(8080);
})().catch((err) => {
  console.error(`web: ${err.message}`);
  process.exit(1);
});
