import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startForwarders } from '../src/forward/index.js';
import { planForwards } from '../src/plan/index.js';
import { type StatusServer, startStatusServer } from '../src/status/index.js';
import { echoServer, REMOTE, serve, waitFor } from './helpers/sockets.js';

const quiet = { warn() {}, error() {} };

async function statusServer(t: TestContext, admitPerSecond?: number): Promise<StatusServer> {
  const status = await startStatusServer({
    address: { host: '127.0.0.1', port: 0 },
    logger: quiet,
    admitPerSecond,
  });
  t.after(() => status.close());
  status.setPhase('running');
  return status;
}

/** Writes `text` on a raw connection; resolves with all it read once the server closed it. */
async function raw(t: TestContext, status: StatusServer, text: string): Promise<string> {
  const socket = connect(status.address);
  t.after(() => socket.destroy());
  socket.on('error', () => {});
  let read = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    read += chunk;
  });
  socket.write(text);
  await new Promise((resolve) => socket.once('close', resolve));
  return read;
}

/** One GET; resolves with the status, or with the error code when the connection failed. */
function probe(status: StatusServer, path: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request({ ...status.address, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve('response error'));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end();
  });
}

describe('status endpoint: hostile clients', () => {
  test('headers beyond 8 KiB get 431 and the connection closes', async (t) => {
    const status = await statusServer(t);
    const answer = await raw(
      t,
      status,
      `GET /healthz HTTP/1.1\r\nX: ${'a'.repeat(16_384)}\r\n\r\n`,
    );
    assert.match(answer, /^HTTP\/1\.1 431 /);
  });

  test('a request body is never read: the answer comes before it, then the close', async (t) => {
    const status = await statusServer(t);
    const answer = await raw(
      t,
      status,
      'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\npartial',
    );
    assert.match(answer, /^HTTP\/1\.1 404 /);
    assert.match(answer, /\r\nconnection: close\r\n/i);
  });

  test('unknown paths and methods: 404; HEAD has no body', async (t) => {
    const status = await statusServer(t);
    assert.match(await raw(t, status, 'GET /nope HTTP/1.1\r\nHost: x\r\n\r\n'), /^HTTP\/1\.1 404 /);
    assert.match(await raw(t, status, 'DELETE /healthz HTTP/1.1\r\nHost: x\r\n\r\n'), / 404 /);
    const head = await raw(t, status, 'HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 200 /);
    assert.ok(head.endsWith('\r\n\r\n'), head);
  });

  test('a slowloris client is cut off by the header timeout', async (t) => {
    const status = await statusServer(t);
    const socket: Socket = connect(status.address);
    t.after(() => socket.destroy());
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const started = performance.now();
    const drip = setInterval(() => socket.write('X-A: b\r\n'), 200);
    t.after(() => clearInterval(drip));
    await new Promise((resolve) => socket.once('close', resolve));
    clearInterval(drip);
    t.diagnostic(`slowloris cut after ${Math.round(performance.now() - started)} ms`);
  });

  test('100 slowloris clients cannot hold the endpoint: a probe pushes out the oldest', async (t) => {
    const status = await statusServer(t);
    let closed = 0;
    for (let i = 0; i < 100; i++) {
      const socket = connect(status.address);
      t.after(() => socket.destroy());
      socket.on('error', () => {});
      socket.once('close', () => closed++);
      await once(socket, 'connect');
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    }
    assert.equal(await probe(status, '/healthz'), 200);
    // The cap (64) held: the first ones were closed to make room.
    await waitFor('36 of the 100 closed', () => closed >= 36);
  });

  test('the endpoint is off the forwarding thread: /healthz answers while that thread is blocked', async (t) => {
    const status = await statusServer(t);
    // Another process probes 200 ms after it says it is ready; meanwhile this thread, the one
    // that forwards (and, before, served the endpoint), is blocked for 3 s.
    const script = `process.stdout.write('ready\\n');
      setTimeout(async () => {
        const res = await fetch('http://127.0.0.1:${status.address.port}/healthz', { signal: AbortSignal.timeout(10000) });
        await res.text();
        process.stdout.write('answered ' + res.status + ' ' + Date.now() + '\\n');
      }, 200);`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => child.kill());
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    const exited = once(child, 'exit');
    await waitFor('the probe', () => out.includes('ready'), 10_000);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000);
    const unblocked = Date.now();
    await exited;
    const answer = /answered (\d+) (\d+)/.exec(out);
    assert.ok(answer, out);
    assert.equal(answer[1], '200');
    const early = unblocked - Number(answer[2]);
    t.diagnostic(`answered ${early} ms before this thread was unblocked`);
    assert.ok(early > 0, `answered ${-early} ms after this thread was unblocked`);
  });

  test('beyond the connections a second, new ones are refused until the second is over', async (t) => {
    const status = await statusServer(t, 10);
    // At once, so that all of them arrive within the second whatever the machine's load.
    const first = await Promise.all(Array.from({ length: 11 }, () => probe(status, '/healthz')));
    const answered = first.filter((result) => result === 200).length;
    assert.equal(answered, 10, `answered: ${JSON.stringify(first)}`);
    const refused = first.find((result) => result !== 200);
    assert.equal(refused, 'ECONNRESET', 'refused as it was accepted, with no answer');
    await sleep(1100);
    assert.equal(await probe(status, '/healthz'), 200);
  });

  test('1,000 concurrent /readyz probes: each target sees at most one dial a second; forwarding goes on', async (t) => {
    const status = await statusServer(t);
    let dials = 0;
    const target = await serve(t, (socket) => {
      dials += 1;
      socket.destroy();
    });
    const echo = await echoServer(t);
    const plan = planForwards({
      specs: [
        {
          bind: '127.0.0.1',
          port: 0,
          target: { host: REMOTE, port: target.port },
          origin: 'a',
          source: 'flag',
        },
        {
          bind: '127.0.0.1',
          port: 0,
          target: { host: REMOTE, port: echo.port },
          origin: 'b',
          source: 'flag',
        },
      ],
      links: false,
    });
    const group = await startForwarders(plan.forwards, { logger: quiet });
    t.after(() => group.close());
    status.setForwarders(group.forwarders);
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 1000 }, () => probe(status, '/readyz')));
    const elapsed = performance.now() - started;
    const counts = new Map<number | string, number>();
    for (const result of results) counts.set(result, (counts.get(result) ?? 0) + 1);
    t.diagnostic(`1,000 probes in ${Math.round(elapsed)} ms: ${JSON.stringify([...counts])}`);
    assert.ok((counts.get(200) ?? 0) > 0, 'some probes were answered ready');
    assert.equal(counts.get(503), undefined, 'no probe saw a target down');
    // The readiness cache: one check a second at most (and the echo target was dialled too).
    assert.ok(dials <= Math.ceil(elapsed / 1000) + 1, `${dials} dials in ${elapsed} ms`);
    // The forward still carries bytes.
    const port = group.forwarders[1]?.addresses[0]?.port ?? 0;
    const client = connect({ host: '127.0.0.1', port });
    client.end('ping');
    let echoed = '';
    client.setEncoding('utf8');
    client.on('data', (chunk: string) => {
      echoed += chunk;
    });
    await once(client, 'close');
    assert.equal(echoed, 'ping');
  });
});
