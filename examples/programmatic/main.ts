// linkfwd as a library, from TypeScript. From the repository root (after `npm run build`):
//   npx tsx examples/programmatic/main.ts
// In your own project the import is the same: `npm install linkfwd`.
import { type AddressInfo, createServer } from 'node:net';
import { formatEndpoint, isLinkfwdError, parseLinkEnv, planForwards, run } from 'linkfwd';

// 1. Pure functions of an environment: nothing is bound, nothing is read from process.env.
const env = {
  DB_PORT_5432_TCP: 'tcp://172.17.0.5:5432',
  DB_NAME: '/web/db',
  // Docker's copy of the db container's own environment: never a forward, never printed.
  DB_ENV_POSTGRES_PASSWORD: 'example-secret',
  DNS_PORT_53_UDP: 'udp://172.17.0.6:53',
  // SCTP is not forwarded: listed as skipped, with the reason.
  SIG_PORT_2905_SCTP: 'sctp://172.17.0.7:2905',
};
const links = parseLinkEnv(env);
for (const link of links.forwards) {
  const where = `${link.port}/${link.protocol}`;
  console.log(`link: ${link.origin}: listen on ${where}, dial ${formatEndpoint(link.target)}`);
}
for (const skipped of links.skipped)
  console.log(`link: ${skipped.origin} skipped: ${skipped.reason}`);
const plan = planForwards({ specs: [], env });
for (const forward of plan.forwards) {
  const listen = forward.listen.map(formatEndpoint).join(' and ');
  console.log(`plan: ${listen} -> ${formatEndpoint(forward.target)} (${forward.origin})`);
}

// 2. The whole job: a service on 127.0.0.2, an app that only knows localhost, linkfwd between.
const port = Number(process.env.EXAMPLE_PORT ?? 15433);
const service = createServer((socket) => socket.end('hello from the service on 127.0.0.2\n'));
await new Promise<void>((resolve, reject) => {
  service.once('error', reject);
  service.listen(0, '127.0.0.2', resolve);
});
const target = service.address() as AddressInfo;
const app = `require('node:net').connect(${port}, 'localhost').on('data', (d) => process.stdout.write('app: got ' + d))`;
try {
  const status = await run({
    forwards: [`${port}:127.0.0.2:${target.port}`],
    // Only the forward above: ignore link variables in this process's environment.
    links: false,
    command: [process.execPath, '-e', app],
    logger: {
      warn: (message) => console.error(`warning: ${message}`),
      error: (message) => console.error(message),
    },
    onListening: (group) => {
      const addresses = group.forwarders.flatMap((forwarder) =>
        forwarder.addresses.map(formatEndpoint),
      );
      console.log(`run: listening on ${addresses.join(' and ')}, starting the app`);
    },
  });
  // The app's own status (128+n if a signal killed it), as the CLI would exit with.
  console.log(`run: the app exited, status ${status}`);
  process.exitCode = status;
} catch (error) {
  if (!isLinkfwdError(error)) throw error;
  console.error(`linkfwd: ${error.message} (${error.code}, exit status ${error.exitStatus})`);
  process.exitCode = error.exitStatus;
} finally {
  service.close();
}
