import assert from 'node:assert/strict';
import { after, before, describe, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runProgram } from './helpers/cli.js';
import {
  DNS_HOST,
  type Dnsmasq,
  dnsAnswer,
  dnsQuery,
  missingDnsTools,
  startDnsmasq,
} from './helpers/dnsmasq.js';
import { startLinkfwd } from './helpers/process.js';
import { waitFor } from './helpers/sockets.js';
import { freeUdpPort, udpSocket } from './helpers/udp.js';

const skip = missingDnsTools();
const BIG = Array.from({ length: 10 }, (_, i) => String.fromCharCode(97 + i).repeat(200));

describe('DNS (dnsmasq on 127.0.0.2) through a UDP forward', { skip }, () => {
  let dns: Dnsmasq;
  before(async () => {
    dns = await startDnsmasq(await freeUdpPort(DNS_HOST), [
      '--address=/db.test/10.1.2.3',
      '--txt-record=hello.test,hello world',
      ...BIG.map((text) => `--txt-record=big.test,${text}`),
    ]);
  });
  after(() => dns?.destroy());

  /** linkfwd (the built bin) in forward-only mode with a UDP forward to dnsmasq. */
  async function forwardDns(t: TestContext) {
    const port = await freeUdpPort('127.0.0.1');
    const linkfwd = startLinkfwd(t, [
      '-v',
      '-f',
      `${port}:${DNS_HOST}:${dns.port}/udp`,
      '--no-links',
    ]);
    await linkfwd.waitForStderr(new RegExp(`listening on 127\\.0\\.0\\.1:${port}.*/udp`));
    return { port, linkfwd };
  }

  const dig = (port: number, ...args: string[]) =>
    runProgram('dig', ['@127.0.0.1', '-p', String(port), '+time=3', '+tries=1', ...args]);

  test('dig: A and TXT answers, and a 2 KB answer over UDP with EDNS0 bufsize 4096', {
    timeout: 30_000,
  }, async (t) => {
    const { port, linkfwd } = await forwardDns(t);
    assert.equal((await dig(port, '+short', 'db.test', 'A')).stdout.trim(), '10.1.2.3');
    assert.equal((await dig(port, '+short', 'hello.test', 'TXT')).stdout.trim(), '"hello world"');
    const big = await dig(port, '+bufsize=4096', '+ignore', 'big.test', 'TXT');
    assert.equal(big.status, 0, big.stderr);
    const size = Number(/MSG SIZE\s+rcvd: (\d+)/.exec(big.stdout)?.[1]);
    assert.ok(size > 2000, `answer of ${size} bytes`);
    assert.doesNotMatch(/;; flags:([^;]*);/.exec(big.stdout)?.[1] ?? '', /\btc\b/, 'not truncated');
    for (const text of BIG) assert.ok(big.stdout.includes(text), 'every TXT string arrived');
    linkfwd.child.kill('SIGTERM');
    const { status } = await linkfwd.exited;
    assert.equal(status, 0);
    // -v reports the forward's counters at exit.
    assert.match(linkfwd.stderr, /"udp":\{"datagramsIn":3,"datagramsOut":3,"dropped":0/);
  });

  test('many concurrent queries from 8 client ports, each answered to its own client', {
    timeout: 30_000,
  }, async (t) => {
    const { port } = await forwardDns(t);
    const clients = await Promise.all(Array.from({ length: 8 }, () => udpSocket(t, '127.0.0.1')));
    const answers = clients.map(() => new Map<number, string>());
    const queries = new Map<number, Buffer>();
    for (const [c, client] of clients.entries()) {
      client.on('message', (data) => {
        const query = queries.get(data.readUInt16BE(0));
        if (query === undefined) return;
        const { id, address } = dnsAnswer(data, query);
        answers[c]?.set(id, address);
      });
    }
    for (let round = 0; round < 25; round++) {
      for (const [c, client] of clients.entries()) {
        const id = c * 1000 + round;
        const query = dnsQuery(id, 'db.test');
        queries.set(id, query);
        client.send(query, port, '127.0.0.1');
      }
      await sleep(2); // paced like real resolvers, not a flood
    }
    await waitFor('every answer', () => answers.every((map) => map.size === 25), 10_000);
    for (const [c, map] of answers.entries()) {
      for (const [id, address] of map) {
        assert.equal(Math.floor(id / 1000), c, `client ${c} got the answer to query ${id}`);
        assert.equal(address, '10.1.2.3');
      }
    }
  });
});
