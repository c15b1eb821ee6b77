/**
 * `npm run build:binary [-- --output PATH] [--no-strip]`: linkfwd as one self-contained
 * executable, `build/linkfwd`, with Node's single-executable-application (SEA) support:
 *
 *   1. esbuild bundles src/bin.ts into one CommonJS file (SEA runs only CommonJS) exactly as
 *      for the npm bin (scripts/bundle.ts), the version inlined as `__LINKFWD_VERSION__`;
 *   2. `node --experimental-sea-config` turns it into a blob;
 *   3. a copy of this very `node`, its symbol table stripped, receives the blob (postject), and
 *      the SEA fuse is flipped.
 *
 * Offline: nothing is downloaded. The binary is this Node (same version, platform and libc)
 * plus linkfwd, and needs nothing else at run time. Built and tested on Linux; the macOS and
 * Windows steps follow Node's documentation and are untested.
 *
 * Exit status: 0 built, 1 failed, 3 cannot be built with this Node (the reason on stderr).
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleCli, packageVersion } from './bundle.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The fuse Node checks at start-up to know a blob was injected (see Node's `single-executable-applications` docs). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const EXIT_CANNOT_BUILD = 3;

type Inject = (
  file: string,
  resource: string,
  data: Buffer,
  options: { sentinelFuse: string; machoSegmentName?: string },
) => Promise<void>;
// postject ships CommonJS without type declarations.
const { inject } = createRequire(import.meta.url)('postject') as { inject: Inject };

class CannotBuild extends Error {}

/** Why this Node cannot produce a single executable, or undefined if it can. */
export function seaUnsupportedReason(nodePath = process.execPath): string | undefined {
  const [major = 0] = process.versions.node.split('.').map(Number);
  if (major < 20) return `Node ${process.versions.node} is too old (20 or later is needed)`;
  if (!['linux', 'darwin', 'win32'].includes(process.platform)) {
    return `Node has no single-executable support on ${process.platform}`;
  }
  // Distribution builds of Node sometimes leave SEA support out; the fuse is then missing.
  if (!readFileSync(nodePath).includes(`${SEA_FUSE}:0`)) {
    return `${nodePath} was built without single-executable support (no SEA fuse); use an official Node build`;
  }
  return undefined;
}

async function buildBinary(output: string, strip: boolean): Promise<void> {
  const reason = seaUnsupportedReason();
  if (reason !== undefined) throw new CannotBuild(reason);
  const version = packageVersion();
  const work = join(dirname(output), 'sea');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const bundle = join(work, 'linkfwd.cjs');
  const blob = join(work, 'linkfwd.blob');

  await bundleCli(bundle);

  const seaConfig = join(work, 'sea-config.json');
  // No `useCodeCache`: it saves about 12 ms of CPU at start-up, but V8 rejects the cache when
  // NODE_OPTIONS carries a V8 flag (--max-old-space-size, common in containers and meant for
  // the app), and Node then prints "Code cache data rejected" on linkfwd's stderr every time.
  const config = { main: bundle, output: blob, disableExperimentalSEAWarning: true };
  writeFileSync(seaConfig, `${JSON.stringify(config, null, 2)}\n`);
  run(process.execPath, ['--experimental-sea-config', seaConfig]);

  // Assembled beside the target and renamed: a failed build never leaves a half-made binary.
  const partial = `${output}.partial`;
  copyFileSync(process.execPath, partial);
  chmodSync(partial, 0o755);
  if (process.platform === 'linux' && strip) stripSymbols(partial);
  if (process.platform === 'darwin') run('codesign', ['--remove-signature', partial]);
  await quietLief(() =>
    inject(partial, 'NODE_SEA_BLOB', readFileSync(blob), {
      sentinelFuse: SEA_FUSE,
      ...(process.platform === 'darwin' ? { machoSegmentName: 'NODE_SEA' } : {}),
    }),
  );
  if (process.platform === 'darwin') run('codesign', ['--sign', '-', partial]);
  renameSync(partial, output);

  const check = spawnSync(output, ['--version'], { encoding: 'utf8' });
  if (check.status !== 0 || check.stdout.trim() !== version) {
    throw new Error(
      `${output} --version printed ${JSON.stringify(check.stdout)} (status ${check.status}), expected ${version}`,
    );
  }
  const size = statSync(output).size;
  console.log(
    `${relative(process.cwd(), output) || output}: linkfwd ${version} on Node ${process.versions.node} ` +
      `${process.platform}-${process.arch}, ${(size / 2 ** 20).toFixed(1)} MiB (${size} bytes)`,
  );
}

/**
 * Drops the symbol table and debug info (about 12 MiB of a 99 MiB Node); `.dynsym`, which
 * native addons link against, stays. Without binutils the copy is left as it is.
 */
function stripSymbols(file: string): void {
  const result = spawnSync('strip', ['--strip-all', file], { encoding: 'utf8' });
  if (result.error !== undefined) {
    console.warn(
      `build-binary: strip not found (binutils), keeping the symbols: ${result.error.message}`,
    );
  } else if (result.status !== 0) {
    // strip writes a new file and renames it, so on failure the copy is intact.
    console.warn(`build-binary: strip failed, keeping the symbols:\n${result.stderr}`);
  }
}

/**
 * postject's ELF parser (LIEF) warns, through `console.warn`, about every note section whose
 * name it cannot read; some Node builds carry hundreds. They do not affect the injection (the
 * `--version` check after it would fail), so only those lines are held back.
 */
async function quietLief(task: () => Promise<void>): Promise<void> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!/^warning: Can't find string offset for section name/.test(String(args[0]))) warn(...args);
  };
  try {
    await task();
  } finally {
    console.warn = warn;
  }
}

function run(file: string, args: string[]): void {
  const result = spawnSync(file, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0)
    throw new Error(`${file} ${args.join(' ')} exited with status ${result.status}`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { values } = parseArgs({
      options: {
        output: {
          type: 'string',
          default: join(ROOT, 'build', process.platform === 'win32' ? 'linkfwd.exe' : 'linkfwd'),
        },
        'no-strip': { type: 'boolean', default: false },
      },
    });
    const output = resolve(values.output);
    mkdirSync(dirname(output), { recursive: true });
    await buildBinary(output, !values['no-strip']);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(
      `build-binary: ${error instanceof CannotBuild ? 'cannot build here: ' : ''}${message}`,
    );
    process.exitCode = error instanceof CannotBuild ? EXIT_CANNOT_BUILD : 1;
  }
}
