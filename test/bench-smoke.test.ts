// The benchmark harness in its smoke profile (one round, ping-pong, UDP request/response and a
// few held connections): it runs, writes a report with both linkfwd modes labelled by their
// thread counts, and leaves nothing behind — not after a normal run and not after a SIGINT in
// the middle. No figure is asserted: benchmarks never run inside `npm test`.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT } from './helpers/cli.js';
import { isAlive } from './helpers/proc.js';
import { dialError } from './helpers/sockets.js';
import { which } from './helpers/tools.js';

const dirs: string[] = [];

after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Harness {
  child: ChildProcess;
  out: string;
  manifest: string;
  exited: Promise<number | null>;
  output: () => string;
}

function startHarness(): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'linkfwd-bench-smoke-'));
  dirs.push(dir);
  const out = join(dir, 'results');
  const manifest = join(dir, 'manifest');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/run.ts', '--smoke', '--out', out, '--manifest', manifest],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk;
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, out, manifest, exited, output: () => text };
}

function readManifest(path: string): { pids: [number, string][]; ports: [string, number][] } {
  const lines = existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n') : [];
  const pids: [number, string][] = [];
  const ports: [string, number][] = [];
  for (const line of lines) {
    const [kind, a, b] = line.split(' ');
    if (kind === 'pid') pids.push([Number(a), b ?? '?']);
    if (kind === 'port') {
      const at = a!.lastIndexOf(':');
      ports.push([a!.slice(0, at), Number(a!.slice(at + 1))]);
    }
  }
  return { pids, ports };
}

/** Everything the manifest names is gone: no process alive, no port accepting (5 s grace). */
async function assertNothingLeft(manifest: string): Promise<void> {
  const { pids, ports } = readManifest(manifest);
  assert.ok(pids.length >= 2, `the harness recorded its processes: ${pids.length}`);
  const deadline = Date.now() + 5000;
  let left: string[] = [];
  do {
    left = pids.filter(([pid]) => isAlive(pid)).map(([pid, name]) => `${name} (pid ${pid})`);
    for (const [host, port] of ports)
      if ((await dialError(port, host)) === undefined) left.push(`${host}:${port}`);
    if (left.length === 0) return;
    await sleep(100);
  } while (Date.now() < deadline);
  assert.deepEqual(left, [], 'processes or listeners left behind');
}

describe('npm run bench -- --smoke', { timeout: 120_000 }, () => {
  test('runs one tiny round, writes the report and stops everything it started', async () => {
    const h = startHarness();
    const code = await h.exited;
    assert.equal(code, 0, h.output());
    const report = readFileSync(join(h.out, 'latest.md'), 'utf8');
    assert.match(report, /^# linkfwd benchmark/);
    assert.match(report, /\| 1-byte ping-pong p50 \| µs \| [\d.,]+ \|/, 'direct mode measured');
    // The second linkfwd mode runs another thread count than the default: 1 where auto gives
    // more, else 2.
    const modes = /\| direct \| linkfwd \(auto=(\d+)\) \| linkfwd --threads (\d+) \|/.exec(report);
    assert.ok(modes, `both linkfwd modes in the table header:\n${report}`);
    const [auto, other] = [Number(modes[1]), Number(modes[2])];
    assert.equal(other, auto > 1 ? 1 : 2, `auto=${auto}, second mode --threads ${other}`);
    // UDP through the harness: direct and both linkfwd modes measured; haproxy, when installed,
    // shown as n/a (it has no UDP), not as missing.
    const udp =
      /\| UDP request\/response, 8 clients \| req\/s \| [\d,]+ \| [\d,]+ \| [\d,]+ \| [^|]+ \| ([^|]+) \|/;
    const haproxy = udp.exec(report)?.[1];
    assert.equal(haproxy, which('haproxy') ? 'n/a' : 'missing', report);
    if (which('haproxy')) assert.match(report, /n\/a: haproxy has no UDP \(haproxy\)/);
    assert.match(h.output(), /full report:/);
    await assertNothingLeft(h.manifest);
  });

  test('SIGINT in the middle of a run stops everything it started', async () => {
    const h = startHarness();
    // Interrupt once a forwarder is up, i.e. while the harness is busy setting up or measuring.
    const deadline = Date.now() + 60_000;
    while (
      !/ (linkfwd|socat-echo|haproxy)$/m.test(
        existsSync(h.manifest) ? readFileSync(h.manifest, 'utf8') : '',
      )
    ) {
      assert.ok(Date.now() < deadline, `no forwarder started: ${h.output()}`);
      if (h.child.exitCode !== null) assert.fail(`harness exited early: ${h.output()}`);
      await sleep(50);
    }
    h.child.kill('SIGINT');
    assert.equal(await h.exited, 130, h.output());
    await assertNothingLeft(h.manifest);
  });
});
