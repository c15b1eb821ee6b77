import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { isLinkfwdError } from '../src/errors.js';
import {
  autoThreads,
  cgroupCpuLimit,
  resolveThreads,
  supportsReusePort,
} from '../src/forward/cpus.js';

/** A stand-in for /sys/fs/cgroup holding `files` (path → content). */
function fakeCgroup(t: TestContext, files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'linkfwd-cgroup-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('--threads auto', () => {
  test('the cgroup CPU quota, v2 and v1, rounded up; none when unlimited or absent', (t) => {
    const cases: [Record<string, string>, number | undefined][] = [
      [{ 'cpu.max': 'max 100000\n' }, undefined],
      [{ 'cpu.max': '200000 100000\n' }, 2],
      [{ 'cpu.max': '150000 100000\n' }, 2],
      [{ 'cpu.max': '50000 100000\n' }, 1],
      [{ 'cpu/cpu.cfs_quota_us': '-1\n', 'cpu/cpu.cfs_period_us': '100000\n' }, undefined],
      [{ 'cpu/cpu.cfs_quota_us': '300000\n', 'cpu/cpu.cfs_period_us': '100000\n' }, 3],
      [{ 'cpu,cpuacct/cpu.cfs_quota_us': '100000', 'cpu,cpuacct/cpu.cfs_period_us': '100000' }, 1],
      [{ 'cpu.max': 'garbage' }, undefined],
      [{}, undefined],
    ];
    for (const [files, expected] of cases) {
      assert.equal(cgroupCpuLimit(fakeCgroup(t, files)), expected, JSON.stringify(files));
    }
  });

  test('the CPUs usable (the quota if lower) less one, at least 1, at most 4', () => {
    assert.equal(autoThreads(1, undefined), 1);
    assert.equal(autoThreads(2, undefined), 1);
    assert.equal(autoThreads(3, undefined), 2);
    assert.equal(autoThreads(16, undefined), 4);
    assert.equal(autoThreads(16, 3), 2);
    assert.equal(autoThreads(16, 1), 1);
    assert.equal(autoThreads(2, 8), 1);
  });

  test('a Node without reusePort: auto runs one thread, an explicit count is a usage error', () => {
    assert.equal(supportsReusePort('20.20.2'), false);
    assert.equal(supportsReusePort('22.11.0'), false);
    assert.equal(supportsReusePort('22.12.0'), true);
    assert.equal(supportsReusePort('24.1.0'), true);
    assert.equal(resolveThreads('auto', '20.20.2'), 1);
    assert.equal(resolveThreads(1, '20.20.2'), 1);
    assert.equal(resolveThreads(undefined, '24.1.0'), 1);
    assert.equal(resolveThreads(3, '24.1.0'), 3);
    assert.throws(
      () => resolveThreads(2, '20.20.2'),
      (error: unknown) =>
        isLinkfwdError(error) &&
        error.exitStatus === 125 &&
        error.message ===
          '--threads 2 needs Node 22.12 or later (this is Node 20.20.2); use --threads 1',
    );
  });
});
