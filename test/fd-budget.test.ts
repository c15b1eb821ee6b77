import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { FdBudget } from '../src/forward/fd-budget.js';

/** A stand-in for `/proc/self`: a `limits` file and an `fd` directory of `open + 1` entries. */
function fakeProc(t: TestContext, limits: string | undefined, open: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'linkfwd-proc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  if (limits !== undefined) writeFileSync(join(dir, 'limits'), limits);
  mkdirSync(join(dir, 'fd'));
  for (let fd = 0; fd <= open; fd++) writeFileSync(join(dir, 'fd', String(fd)), '');
  return dir;
}

const limitsOf = (soft: string, hard = soft) =>
  'Limit                     Soft Limit           Hard Limit           Units     \n' +
  'Max cpu time              unlimited            unlimited            seconds   \n' +
  `Max open files            ${soft.padEnd(21)}${hard.padEnd(21)}files     \n` +
  'Max locked memory         8388608              8388608              bytes     \n';

describe('FdBudget', () => {
  test('room for (limit − descriptors in use − reserve) / 2 connections, the reserve an eighth', (t) => {
    // 256 − 20 in use − 32 kept free = 204 descriptors: 102 connections.
    const budget = new FdBudget(fakeProc(t, limitsOf('256', '1024'), 20));
    budget.measure();
    assert.equal(budget.limit, 256);
    for (let i = 0; i < 102; i++) {
      assert.equal(budget.full, false, `connection ${i + 1}`);
      budget.take();
    }
    assert.equal(budget.full, true);
    budget.release();
    assert.equal(budget.full, false);
  });

  test('the reserve is at most 64 descriptors', (t) => {
    const budget = new FdBudget(fakeProc(t, limitsOf('4096'), 100));
    budget.measure();
    for (let i = 0; i < (4096 - 100 - 64) / 2; i++) budget.take();
    assert.equal(budget.full, true);
    budget.release();
    assert.equal(budget.full, false);
  });

  test("a new measure counts the budget's own connections apart from the other descriptors", (t) => {
    const proc = fakeProc(t, limitsOf('256'), 20);
    const budget = new FdBudget(proc);
    budget.measure();
    for (let i = 0; i < 50; i++) budget.take();
    // The 50 connections hold 100 descriptors, and another listener opened: 121 in use.
    for (let fd = 21; fd <= 121; fd++) writeFileSync(join(proc, 'fd', String(fd)), '');
    budget.measure();
    for (let i = 50; i < Math.floor((256 - 21 - 32) / 2); i++) budget.take();
    assert.equal(budget.full, true);
    budget.release();
    assert.equal(budget.full, false);
  });

  test('no limit known (unlimited, unreadable, not Linux): never full', (t) => {
    for (const proc of [
      fakeProc(t, limitsOf('unlimited'), 20),
      fakeProc(t, 'garbage', 20),
      fakeProc(t, undefined, 20),
    ]) {
      const budget = new FdBudget(proc);
      budget.measure();
      assert.equal(budget.limit, Number.POSITIVE_INFINITY);
      for (let i = 0; i < 100_000; i++) budget.take();
      assert.equal(budget.full, false);
    }
  });

  test("this process's own limit, as the kernel reports it", () => {
    const budget = new FdBudget();
    budget.measure();
    const soft = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'latin1'))?.[1];
    assert.equal(budget.limit, Number(soft));
    assert.equal(budget.full, false);
  });
});
