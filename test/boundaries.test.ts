import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from './helpers/cli.js';

const run = promisify(execFile);
const DEPCRUISE = join(ROOT, 'node_modules/.bin/depcruise');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const SLOW = { timeout: 60_000 };

interface Violation {
  rule: string;
  from: string;
  to: string;
}

/**
 * Runs dependency-cruiser with the project's rules over `src/` of `dir`, as `npm run lint`
 * does: its status, and the violations it printed (`error <rule>: <from> → <to>`, a circle over several lines).
 */
async function cruise(dir: string): Promise<{ status: number; violations: Violation[] }> {
  const args = ['--config', CONFIG, '--output-type', 'err', 'src'];
  let status = 0;
  let stdout: string;
  try {
    ({ stdout } = await run(DEPCRUISE, args, { cwd: dir }));
  } catch (error) {
    ({ code: status, stdout } = error as { code: number; stdout: string });
  }
  const violations = [...stdout.matchAll(/^\s*error (\S+): (\S+) →\s+(\S+)/gm)].map(
    ([, rule = '', from = '', to = '']) => ({ rule, from, to }),
  );
  return { status, violations };
}

/** A tree where each forbidden import appears once, beside allowed ones. */
const FORBIDDEN: Record<string, string> = {
  'src/errors.ts': 'export const E = 1;\n',
  'src/plan/index.ts': "export { p } from './plan.js';\n",
  'src/plan/plan.ts':
    "import { createServer } from 'node:net';\nimport { f } from '../forward/index.js';\nexport const p = [createServer, f];\n",
  'src/forward/index.ts': "export { f } from './a.js';\n",
  'src/forward/a.ts':
    "import type { B } from './b.js';\nimport { s } from '../supervise/index.js';\nexport const f = s;\nexport type A = B;\n",
  'src/forward/b.ts': "import type { A } from './a.js';\nexport type B = A | 1;\n",
  'src/supervise/index.ts': "export { t } from '../status/index.js';\nexport const s = 1;\n",
  'src/status/index.ts': 'export const t = 1;\n',
  'src/run.ts': "import type { B } from './forward/b.js';\nexport type R = B;\n",
};

const EXPECTED: [rule: string, from: string, to: string][] = [
  ['pure-stages-do-no-io', 'src/plan/plan.ts', 'net'],
  ['pure-stages-import-no-io-stage', 'src/plan/plan.ts', 'src/forward/index.ts'],
  ['forward-and-supervise-apart', 'src/forward/a.ts', 'src/supervise/index.ts'],
  ['no-circular', 'src/forward/a.ts', 'src/forward/b.ts'],
  ['status-on-top', 'src/supervise/index.ts', 'src/status/index.ts'],
  ['top-only-through-index', 'src/run.ts', 'src/forward/b.ts'],
];

describe('stage boundaries (dependency-cruiser, .dependency-cruiser.cjs)', () => {
  test("linkfwd's own tree keeps every rule", SLOW, async () => {
    const { status, violations } = await cruise(ROOT);
    assert.deepEqual(violations, []);
    assert.equal(status, 0);
  });

  test('each forbidden import fails the check', SLOW, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'linkfwd-boundaries-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    for (const [path, text] of Object.entries(FORBIDDEN)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    await writeFile(join(dir, 'tsconfig.json'), await readFile(join(ROOT, 'tsconfig.json')));
    const { status, violations } = await cruise(dir);
    assert.notEqual(status, 0);
    for (const [rule, from, to] of EXPECTED) {
      assert.ok(
        violations.some((v) => v.rule === rule && v.from === from && v.to === to),
        `${rule}: ${from} → ${to} not reported; got ${JSON.stringify(violations)}`,
      );
    }
  });

  test('plan/ and options/ read no process state and set no timer', async () => {
    for (const folder of ['plan', 'options']) {
      for (const name of await readdir(join(ROOT, 'src', folder))) {
        const text = await readFile(join(ROOT, 'src', folder, name), 'utf8');
        const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
        assert.doesNotMatch(code, /\bprocess\.|\bset(Timeout|Interval|Immediate)\(/, name);
      }
    }
  });
});
