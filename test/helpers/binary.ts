// Building and inspecting the single executables (scripts/build-binary.ts) for the tests.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Arch } from '../../scripts/node-runtime.js';
import { ROOT } from './cli.js';

/** scripts/build-binary.ts: the executable cannot be built here. */
const EXIT_CANNOT_BUILD = 3;

/** Preloaded through NODE_OPTIONS, it makes any Node program print its runtime on stderr. */
export const REPORT_RUNTIME = join(ROOT, 'test/fixtures/report-runtime.cjs');

/** What test/fixtures/report-runtime.cjs prints. */
export interface Runtime {
  node: string;
  arch: string;
  platform: string;
  sea: boolean;
}

/** The newest modification time among the files a binary is built from. */
function newestSource(): number {
  const files = [
    join(ROOT, 'package.json'),
    ...['src', 'scripts'].flatMap((dir) =>
      readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
        .filter((name) => !name.split(/[\\/]/).includes('node_modules'))
        .map((name) => join(ROOT, dir, name)),
    ),
  ];
  return Math.max(...files.map((file) => statSync(file).mtimeMs));
}

/**
 * `file`, built for `arch` with `npm run build:binary` first when missing or older than its
 * sources; `{ skip }` (outside CI only) when it cannot be built here.
 */
export function prepareBinary(file: string, arch: Arch): { file: string } | { skip: string } {
  if (existsSync(file) && statSync(file).mtimeMs >= newestSource()) return { file };
  const build = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'scripts/build-binary.ts'), '--arch', arch, '--output', file],
    { cwd: ROOT, encoding: 'utf8', timeout: 300_000 },
  );
  if (build.status === EXIT_CANNOT_BUILD && process.env.CI !== 'true') {
    return { skip: `cannot build the single executable here: ${build.stderr.trim()}` };
  }
  assert.equal(build.status, 0, `npm run build:binary failed:\n${build.stdout}\n${build.stderr}`);
  return { file };
}

/** The last line of `stderr` that test/fixtures/report-runtime.cjs printed, parsed. */
export function reportedRuntime(stderr: string): Runtime {
  const line = stderr
    .split('\n')
    .reverse()
    .find((text) => text.startsWith('report-runtime: '));
  assert.ok(line !== undefined, `no report-runtime line on stderr: ${JSON.stringify(stderr)}`);
  return JSON.parse(line.slice('report-runtime: '.length)) as Runtime;
}
