import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ForwarderGroup, startForwarders } from '../src/forward/index.js';
import type { Endpoint, Protocol } from '../src/plan/index.js';
import { planForwards } from '../src/plan/index.js';
import { run } from '../src/run.js';
import { type StatusServer, startStatusServer } from '../src/status/index.js';
import type { ProcessLike } from '../src/supervise/index.js';
import { echoServer, freePort, REMOTE, serve, waitFor } from './helpers/sockets.js';
import { nextDatagram, udpEcho, udpSocket } from './helpers/udp.js';

interface Answer {
  status: number;
  body: string;
}

/** One GET (or another method) to the status endpoint; a closed connection rejects. */
function get(address: Endpoint, path: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address.host, port: address.port, path, method, agent: false });
    req.setTimeout(5000, () => req.destroy(new Error(`${path}: no answer`)));
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.end();
  });
}

/** Polls `path` until its status is `status`; resolves with that answer. */
async function until(address: Endpoint, path: string, status: number): Promise<Answer> {
  let last: Answer | undefined;
  for (const deadline = Date.now() + 8000; Date.now() < deadline; await sleep(50)) {
    last = await get(address, path);
    if (last.status === status) return last;
  }
  assert.fail(`${path} never answered ${status}; last: ${last?.status} ${last?.body}`);
}

/** A process stand-in whose signals the test emits. */
function fakeProcess(): ProcessLike {
  return Object.assign(new EventEmitter(), { pid: process.pid, kill: () => true });
}

async function startWithStatus(
  t: TestContext,
  targets: (Endpoint & { protocol?: Protocol })[],
  readyCacheFor = 100,
): Promise<{ group: ForwarderGroup; status: StatusServer }> {
  const specs = targets.map(({ protocol, ...target }, i) => ({
    bind: '127.0.0.1',
    port: 0,
    target,
    origin: `t${i}`,
    source: 'flag' as const,
    ...(protocol === undefined ? {} : { protocol }),
  }));
  const plan = planForwards({ specs, links: false });
  const logger = { warn() {}, error() {} };
  const status = await startStatusServer({
    address: { host: '127.0.0.1', port: 0 },
    logger,
    readyCacheFor,
  });
  t.after(() => status.close());
  const group = await startForwarders(plan.forwards, { logger, onDialed: status.observeDial });
  t.after(() => group.close());
  status.setForwarders(group.forwarders);
  status.setPhase('running');
  return { group, status };
}

/** Sends `size` bytes through `port` to an echo server and reads them all back. */
async function echoThrough(port: number, size: number): Promise<void> {
  const socket = connect({ host: '127.0.0.1', port });
  let received = 0;
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received === size) socket.end();
  });
  socket.write(Buffer.alloc(size, 7));
  await once(socket, 'close');
  assert.equal(received, size);
}

/** Dials `port` and waits for the reset that a failed upstream dial brings. */
async function dialRefused(port: number): Promise<void> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  // Not events.once: it rejects on the 'error' that comes first.
  await new Promise((resolve) => socket.once('close', resolve));
}

/** `name{labels} value` samples of a text exposition, by name and label text. */
function samples(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(\S+?)(\{.*\})? (\S+)$/.exec(line);
    assert.ok(match, `a sample line: ${line}`);
    found.set(`${match[1]}${match[2] ?? ''}`, Number(match[3]));
  }
  return found;
}

describe('status endpoint: routes across a forward life', () => {
  test('starting, all up, a target down, back up, shutting down', async (t) => {
    const port = await freePort();
    const proc = fakeProcess();
    let address: Endpoint | undefined;
    const outcome = run({
      forwards: [`127.0.0.1:0:${REMOTE}:${port}`],
      env: {},
      links: false,
      wait: true,
      waitTimeout: 20_000,
      status: { host: '127.0.0.1', port: 0 },
      process: proc,
      onStatusListening: (bound) => {
        address = bound;
      },
    });
    await waitFor('the status endpoint', () => address !== undefined);
    assert.ok(address);
    // Waiting for a target that is down: not alive yet, not ready.
    assert.deepEqual(await get(address, '/healthz'), { status: 503, body: 'starting\n' });
    assert.deepEqual(await get(address, '/readyz'), { status: 503, body: 'starting\n' });
    // The target comes up: --wait ends, the forward-only run serves.
    const upstream = await serve(t, () => {}, REMOTE, port);
    assert.equal((await until(address, '/healthz', 200)).body, 'ok\n');
    assert.equal((await until(address, '/readyz', 200)).body, 'ok\n');
    // Down: readiness fails naming it; liveness holds.
    const closed = new Promise((resolve) => upstream.server.close(resolve));
    for (const socket of upstream.sockets) socket.destroy(); // the probes' half-open ends
    await closed;
    const down = await until(address, '/readyz', 503);
    assert.match(
      down.body,
      new RegExp(`^unreachable: ${REMOTE}:${port} \\(-f .*\\): connection refused\\n$`),
    );
    assert.equal((await get(address, '/healthz')).status, 200);
    // Back up.
    await serve(t, () => {}, REMOTE, port);
    await until(address, '/readyz', 200);
    // TERM: shutting down, then the endpoint closes with the rest.
    proc.emit('SIGTERM', 'SIGTERM');
    assert.equal(await outcome, 0);
    await assert.rejects(get(address, '/healthz'), /ECONNREFUSED/);
  });

  test('with an app: 200 while it runs, 503 from TERM on while it shuts down', async (t) => {
    const proc = fakeProcess();
    let address: Endpoint | undefined;
    const dir = mkdtempSync(join(tmpdir(), 'linkfwd-status-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const ready = join(dir, 'ready');
    const app = `process.on('SIGTERM', () => setTimeout(() => process.exit(0), 1500));
      require('node:fs').writeFileSync(${JSON.stringify(ready)}, ''); setInterval(() => {}, 1000);`;
    const outcome = run({
      env: { PATH: process.env.PATH ?? '' },
      links: false,
      command: [process.execPath, '-e', app],
      status: { host: '127.0.0.1', port: 0 },
      process: Object.assign(proc, {
        kill: (pid: number, signal: NodeJS.Signals) => process.kill(pid, signal),
      }),
      onStatusListening: (bound) => {
        address = bound;
      },
    });
    await waitFor('the status endpoint', () => address !== undefined);
    assert.ok(address);
    assert.equal((await until(address, '/healthz', 200)).body, 'ok\n');
    // No forwards: nothing to be unready for.
    assert.equal((await get(address, '/readyz')).status, 200);
    await waitFor('the app to handle SIGTERM', () => existsSync(ready));
    proc.emit('SIGTERM', 'SIGTERM');
    assert.deepEqual(await get(address, '/healthz'), { status: 503, body: 'shutting down\n' });
    assert.deepEqual(await get(address, '/readyz'), { status: 503, body: 'shutting down\n' });
    assert.equal(await outcome, 0);
  });
});

describe('status endpoint: /metrics', () => {
  test('counters match a known traffic pattern; promtool parses the exposition', async (t) => {
    const echo = await echoServer(t);
    const refused = await freePort();
    const { group, status } = await startWithStatus(t, [
      { host: REMOTE, port: echo.port },
      { host: REMOTE, port: refused },
    ]);
    const [up, down] = group.forwarders.map((f) => f.addresses[0]?.port ?? 0);
    // A scrape before the traffic: the process metrics it renders are kept for a second, the
    // forward counters never are.
    assert.equal((await get(status.address, '/metrics')).status, 200);
    for (const size of [1000, 2000, 3000]) await echoThrough(up ?? 0, size);
    await dialRefused(down ?? 0);
    await dialRefused(down ?? 0);
    await waitFor('the forwards idle', () => group.forwarders.every((f) => f.stats().active === 0));

    const { status: code, body } = await get(status.address, '/metrics');
    assert.equal(code, 200);
    const upLabels = `forward="t0",listen="127.0.0.1:${up}",target="${REMOTE}:${echo.port}"`;
    const downLabels = `forward="t1",listen="127.0.0.1:${down}",target="${REMOTE}:${refused}"`;
    const found = samples(body);
    const expect = {
      [`linkfwd_connections_accepted_total{${upLabels}}`]: 3,
      [`linkfwd_connections_accepted_total{${downLabels}}`]: 2,
      [`linkfwd_connections_active{${upLabels}}`]: 0,
      [`linkfwd_connections_rejected_total{${upLabels}}`]: 0,
      [`linkfwd_bytes_total{${upLabels},direction="to_target"}`]: 6000,
      [`linkfwd_bytes_total{${upLabels},direction="to_client"}`]: 6000,
      [`linkfwd_bytes_total{${downLabels},direction="to_target"}`]: 0,
      [`linkfwd_dial_failures_total{${downLabels},code="ECONNREFUSED"}`]: 2,
      [`linkfwd_dial_duration_seconds_count{${upLabels}}`]: 3,
      [`linkfwd_dial_duration_seconds_bucket{le="+Inf",${upLabels}}`]: 3,
    };
    for (const [key, value] of Object.entries(expect)) {
      assert.equal(found.get(key), value, `${key} in:\n${body}`);
    }
    assert.equal(found.has(`linkfwd_dial_duration_seconds_count{${downLabels}}`), false);
    assert.ok((found.get('linkfwd_threads') ?? 0) >= 1);
    assert.ok((found.get('linkfwd_open_files_limit') ?? 0) > 0);
    assert.ok(found.has('process_cpu_user_seconds_total'), 'the default process metrics');

    // promtool: ours must pass its parser and linter; the whole output must parse (exit 3 is
    // lint only: prom-client's default nodejs_*_total gauges, not linkfwd's names).
    const ours = body
      .split('\n')
      .filter((line) => /^(# (HELP|TYPE) )?linkfwd_/.test(line))
      .join('\n');
    const strict = spawnSync('promtool', ['check', 'metrics'], { input: `${ours}\n` });
    assert.equal(strict.error, undefined, 'promtool is installed (.ci/run: prometheus)');
    assert.equal(strict.status, 0, strict.stderr.toString());
    const whole = spawnSync('promtool', ['check', 'metrics'], { input: body });
    const complaints = whole.stderr.toString().trim().split('\n').filter(Boolean);
    assert.ok(whole.status === 0 || whole.status === 3, whole.stderr.toString());
    for (const line of complaints) assert.match(line, /^nodejs_\S+ non-counter metrics/);
  });
  test('a UDP forward: flows and datagrams counted exactly; /readyz does not probe its target', async (t) => {
    const echo = await udpEcho(t, REMOTE);
    const { group, status } = await startWithStatus(t, [
      { host: REMOTE, port: echo.port, protocol: 'udp' },
    ]);
    const port = group.forwarders[0]?.addresses[0]?.port ?? 0;
    const client = await udpSocket(t, '127.0.0.1');
    for (const size of [10, 20, 30]) {
      client.send(Buffer.alloc(size, 1), port, '127.0.0.1');
      assert.equal((await nextDatagram(client)).length, size);
    }
    // Nothing listens on the target's TCP port: a TCP probe would be refused.
    assert.deepEqual(await get(status.address, '/readyz'), { status: 200, body: 'ok\n' });

    const { body } = await get(status.address, '/metrics');
    const labels = `forward="t0",listen="127.0.0.1:${port}",target="${REMOTE}:${echo.port}"`;
    const found = samples(body);
    const expect = {
      [`linkfwd_connections_accepted_total{${labels}}`]: 1,
      [`linkfwd_connections_active{${labels}}`]: 1,
      [`linkfwd_bytes_total{${labels},direction="to_target"}`]: 60,
      [`linkfwd_bytes_total{${labels},direction="to_client"}`]: 60,
      [`linkfwd_udp_datagrams_total{${labels},direction="to_target"}`]: 3,
      [`linkfwd_udp_datagrams_total{${labels},direction="to_client"}`]: 3,
      [`linkfwd_udp_datagrams_dropped_total{${labels}}`]: 0,
      [`linkfwd_udp_refused_total{${labels}}`]: 0,
      [`linkfwd_udp_flows_expired_total{${labels}}`]: 0,
    };
    for (const [key, value] of Object.entries(expect)) {
      assert.equal(found.get(key), value, `${key} in:\n${body}`);
    }
    const udpLines = body.split('\n').filter((line) => /^(# (HELP|TYPE) )?linkfwd_udp_/.test(line));
    const check = spawnSync('promtool', ['check', 'metrics'], {
      input: `${udpLines.join('\n')}\n`,
    });
    assert.equal(check.status, 0, check.stderr.toString());
  });
});
