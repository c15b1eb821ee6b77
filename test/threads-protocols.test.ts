/**
 * `--threads N` with every kind of forward (README: "Forwarding threads"; ARCHITECTURE.md, "The
 * path of one datagram"): TCP listeners are bound in every thread, while UDP forwards and Unix
 * listeners stay on the main thread, so that a client's datagrams keep one upstream socket.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { supportsReusePort } from '../src/forward/cpus.js';
import { startForwardOnly } from './helpers/cli.js';
import { tcpListeners } from './helpers/proc.js';
import { echoServer, freePort, REMOTE, roundTrip, waitFor } from './helpers/sockets.js';
import { freeUdpPort, nextDatagram, udpEcho, udpSocket } from './helpers/udp.js';

const skip = supportsReusePort()
  ? false
  : `Node ${process.versions.node} has no reusePort: forwarding threads need Node 22.12 or later`;

/** The listening sockets of `pid` on `path` (`ss -lx`): one line per socket. */
function unixListeners(pid: number, path: string): number {
  const ss = spawnSync('ss', ['-lxpH'], { encoding: 'utf8' });
  assert.equal(ss.status, 0, ss.stderr);
  return ss.stdout.split('\n').filter((l) => l.includes(path) && l.includes(`pid=${pid},`)).length;
}

describe('forwarding threads and protocols', { skip }, () => {
  test('--threads 2: TCP bound in both threads, UDP and Unix in the main thread only', {
    timeout: 30_000,
  }, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'linkfwd-threads-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const tcpTarget = await echoServer(t);
    const udpTarget = await udpEcho(t, REMOTE);
    const tcpPort = await freePort('127.0.0.1');
    const udpPort = await freeUdpPort('127.0.0.1');
    const path = join(dir, 'db.sock');
    const { child, stderr } = await startForwardOnly(t, [
      '--threads',
      '2',
      '--bind',
      '127.0.0.1',
      '-f',
      `${tcpPort}:${REMOTE}:${tcpTarget.port}`,
      '-f',
      `${udpPort}:${REMOTE}:${udpTarget.port}/udp`,
      '-f',
      `unix:${path}:${REMOTE}:${tcpTarget.port}`,
    ]);
    const pid = child.pid ?? 0;
    await waitFor('three forwarding lines', () => stderr().split('forwarding').length === 4);

    const sockets = (protocol: 'tcp' | 'udp', port: number) =>
      tcpListeners(undefined, protocol).filter((l) => l.port === port && l.pids.includes(pid))
        .length;
    assert.equal(sockets('tcp', tcpPort), 2, 'one TCP listener per thread');
    assert.equal(sockets('udp', udpPort), 1, 'one UDP socket, in the main thread');
    assert.equal(unixListeners(pid, path), 1, 'one Unix listener, in the main thread');

    // Every forward still forwards.
    assert.equal((await roundTrip(t, tcpPort, 'tcp')).head, 'tcp');
    const client = await udpSocket(t, '127.0.0.1');
    client.send('udp', udpPort, '127.0.0.1');
    assert.equal(String(await nextDatagram(client)), 'udp');
    assert.equal(stderr().includes('failed'), false, stderr());
  });
});
