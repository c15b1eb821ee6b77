// The test-support module (test/helpers/) is shared by test/, bench/ and stress/; its
// dependencies go one way (README, Development): bench/ and stress/ may import test/helpers/,
// test/helpers/ imports none of src/, bench/, stress/, and of test/ only
// reliability.test.ts imports stress/ (its entry points: the cases and the scales).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT } from './helpers/cli.js';

/** Every `.ts`/`.mjs` file below `dir` (relative to ROOT), recursively. */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'results' ? [] : sources(path);
    return /\.(ts|mjs)$/.test(entry.name) ? [path] : [];
  });
}

/** The repository files `file` imports (static, dynamic and re-exports), relative to ROOT. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)];
  return specifiers.map((m) => relative(ROOT, resolve(ROOT, dirname(file), m[1] ?? '')));
}

/** `from → to` for each import of a file in `dirs` whose target matches `forbidden`. */
function offending(dirs: string[], forbidden: (from: string, to: string) => boolean): string[] {
  return dirs
    .flatMap(sources)
    .flatMap((from) => importsOf(from).map((to) => [from, to] as const))
    .filter(([from, to]) => forbidden(from, to))
    .map(([from, to]) => `${from} → ${to}`);
}

describe('test/helpers dependencies go one way', () => {
  test('the import scan sees imports', () => {
    // Guards the checks below against a scan that finds nothing and so passes anything.
    assert.ok(importsOf('stress/harness.ts').includes('test/helpers/process.js'));
    assert.ok(importsOf('bench/upstreams.ts').includes('test/helpers/postgres.js'));
    assert.ok(importsOf('test/reliability.test.ts').includes('stress/scale.js'));
  });

  test('test/helpers imports nothing from src/, bench/, stress/ or the test files', () => {
    const outside = (_: string, to: string) =>
      /^(src|bench|stress)\//.test(to) || /^test\/[^/]+\.test\.ts$/.test(to);
    assert.deepEqual(offending(['test/helpers'], outside), []);
  });

  test('bench/ and stress/ take from test/ only test/helpers', () => {
    const notHelpers = (_: string, to: string) =>
      to.startsWith('test/') && !to.startsWith('test/helpers/');
    assert.deepEqual(offending(['bench', 'stress'], notHelpers), []);
  });

  test('bench/ and stress/ never import each other', () => {
    const across = (from: string, to: string) =>
      (from.startsWith('bench/') && to.startsWith('stress/')) ||
      (from.startsWith('stress/') && to.startsWith('bench/'));
    assert.deepEqual(offending(['bench', 'stress'], across), []);
  });

  test('of test/, only reliability.test.ts imports stress/, and only its entry points', () => {
    const tests = readdirSync(join(ROOT, 'test')).filter((name) => name.endsWith('.test.ts'));
    const wrong = tests.flatMap((name) =>
      importsOf(`test/${name}`)
        .filter((to) => /^(bench|stress)\//.test(to))
        .filter(
          (to) => name !== 'reliability.test.ts' || !/^stress\/(cases\/[^/]+|scale)\.js$/.test(to),
        )
        .map((to) => `test/${name} → ${to}`),
    );
    assert.deepEqual(wrong, []);
  });
});
