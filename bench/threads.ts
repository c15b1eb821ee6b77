/**
 * `node --import tsx bench/threads.ts [--rounds N]`: how the kernel spreads clients over the
 * forwarding threads (BENCHMARKS.md, "Forwarding threads"). Prints figures only.
 *
 * For 4, 8 and 64 clients connected at once (long-lived, as a connection pool's), the
 *   clients each thread accepted (`stats().threads`), per round, and how many rounds left a
 *   thread with none.
 */
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startForwarder } from '../src/forward/index.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' } } });
const rounds = Number(values.rounds);

console.log(`Node ${process.versions.node}`);
const upstream = createServer((socket) => socket.on('error', () => {}));
upstream.listen(0, '127.0.0.2');
await once(upstream, 'listening');
const target = { host: '127.0.0.2', port: (upstream.address() as { port: number }).port };

for (const threads of [2, 4]) {
  const forwarder = await startForwarder(
    {
      listen: [{ host: '127.0.0.1', port: 0 }],
      target,
      origin: 'bench',
      source: 'flag',
      explicit: true,
    },
    { threads },
  );
  const port = forwarder.addresses[0]?.port ?? 0;
  console.log(`spread over ${threads} threads, ${rounds} rounds (clients per thread)`);
  for (const clients of [4, 8, 64]) {
    let idle = 0;
    const spreads: string[] = [];
    for (let round = 0; round < rounds; round++) {
      const before = forwarder.stats().threads ?? [];
      const sockets: Socket[] = [];
      for (let i = 0; i < clients; i++) {
        const socket = connect({ host: '127.0.0.1', port });
        socket.on('error', () => {});
        sockets.push(socket);
      }
      await Promise.all(sockets.map((s) => once(s, 'connect')));
      while (forwarder.stats().accepted - before.reduce((a, b) => a + b, 0) < clients)
        await sleep(5);
      const after = forwarder.stats().threads ?? [];
      const got = after.map((n, i) => n - (before[i] ?? 0));
      if (got.some((n) => n === 0)) idle += 1;
      spreads.push(got.join('/'));
      for (const s of sockets) s.destroy();
      while (forwarder.stats().active > 0) await sleep(5);
    }
    console.log(
      `  ${clients} clients: a thread idle in ${idle}/${rounds} rounds; ${spreads.join(' ')}`,
    );
  }
  await forwarder.close();
}
upstream.close();
