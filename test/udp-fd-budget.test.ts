// UDP flows in linkfwd as a user runs it under a low open-file limit.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startForwardOnly } from './helpers/cli.js';
import { REMOTE } from './helpers/sockets.js';
import { freeUdpPort, udpEcho, udpSocket } from './helpers/udp.js';

describe('UDP flows and the open-file limit', () => {
  test('each flow counts against the open-file budget: past it, new peers are dropped, warned once', {
    timeout: 30_000,
  }, async (t) => {
    // linkfwd as a user runs it under a low `ulimit -n`: without the budget, flows would take
    // descriptors until sockets fail (EMFILE) for TCP clients and UDP flows alike.
    const echo = await udpEcho(t, REMOTE);
    const port = await freeUdpPort('127.0.0.1');
    const forward = `127.0.0.1:${port}:${REMOTE}:${echo.port}/udp`;
    const { child: linkfwd, stderr } = await startForwardOnly(t, ['-f', forward], 60);
    const clients = await Promise.all(Array.from({ length: 80 }, () => udpSocket(t, '127.0.0.1')));
    let answered = 0;
    for (const client of clients) {
      client.once('message', () => {
        answered += 1;
      });
      client.send('hello', port, '127.0.0.1');
      await sleep(2);
    }
    await sleep(500);
    const open = readdirSync(`/proc/${linkfwd.pid}/fd`).length;
    linkfwd.kill('SIGTERM');
    const [status] = await once(linkfwd, 'exit');
    assert.equal(status, 0, stderr());
    const lines = stderr()
      .trim()
      .split('\n')
      .filter((line) => !line.includes('forwarding '));
    assert.deepEqual(lines, [
      `linkfwd: -f ${forward}: too many open files (limit 60), datagrams from new clients are dropped`,
    ]);
    assert.ok(answered > 0 && answered < 60, `${answered} peers answered`);
    assert.ok(open < 60, `${open} descriptors open in linkfwd`);
  });
});
