// `npm run demo`: a demo database on 127.0.0.2, an app that only knows localhost, and linkfwd
// in between. Exits with linkfwd's status, which is the app's.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startDemoDb } from './db.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));
const app = fileURLToPath(new URL('./app.mjs', import.meta.url));
const port = Number(process.env.DEMO_PORT ?? 15432);
const dbHost = '127.0.0.2';

if (!existsSync(bin)) {
  console.error('demo: dist/bin.js is missing; run `npm run build` first');
  process.exit(1);
}
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(
    `demo: DEMO_PORT must be a port number, got ${JSON.stringify(process.env.DEMO_PORT)}`,
  );
  process.exit(1);
}

// The app will dial localhost: if something already answers there, the demo would prove nothing.
const taken = await new Promise((resolve) => {
  const probe = connect({ host: '127.0.0.1', port });
  probe.once('connect', () => {
    probe.destroy();
    resolve(true);
  });
  probe.once('error', () => resolve(false));
});
if (taken) {
  console.error(
    `demo: something already listens on localhost:${port}; pick another port with DEMO_PORT=<port>`,
  );
  process.exit(1);
}

let db;
try {
  db = await startDemoDb(dbHost, port);
} catch (error) {
  console.error(`demo: ${error.message}`);
  process.exit(1);
}
console.log(`demo: a database listens on ${dbHost}:${port}; nothing answers on localhost:${port}`);

const args = [bin, '-f', `${port}:${dbHost}:${port}`, '--', process.execPath, app];
console.log(`demo: $ linkfwd -f ${port}:${dbHost}:${port} -- node examples/demo/app.mjs`);
// The app's stdout passes straight through linkfwd, which writes nothing there itself.
const linkfwd = spawn(process.execPath, args, {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, DEMO_PORT: String(port) },
});
const status = await new Promise((resolve) => {
  linkfwd.on('error', (error) => {
    console.error(`demo: cannot start linkfwd: ${error.message}`);
    resolve(1);
  });
  linkfwd.on('exit', (code, signal) => resolve(code ?? 128 + (constants.signals[signal] ?? 0)));
});
db.close();
if (status === 125) {
  console.error(`demo: linkfwd could not start (is localhost:${port} taken? try DEMO_PORT=<port>)`);
}
console.log(`demo: linkfwd exited with status ${status}`);
process.exitCode = status;
