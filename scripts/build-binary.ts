/**
 * `npm run build:binary [-- --arch x64|arm64] [--output PATH] [--no-strip]`: linkfwd as one
 * self-contained executable with Node's single-executable-application (SEA) support:
 * `build/linkfwd` for this machine's architecture, `build/linkfwd-<arch>` for another one.
 *
 *   1. esbuild bundles src/bin.ts into one CommonJS file (SEA runs only CommonJS) exactly as
 *      for the npm bin (scripts/bundle.ts), the version inlined as `__LINKFWD_VERSION__`;
 *   2. `node --experimental-sea-config` turns it into a blob;
 *   3. a copy of the target Node, its symbol table stripped, receives the blob (postject), and
 *      the SEA fuse is flipped.
 *
 * The Node is the official binary pinned in scripts/node/package.json (node-runtime.ts), not
 * the host's `node`: on Linux the installed `node-linux-<arch>` package, or for another
 * architecture the package fetched with `npm pack` into node_modules/.cache (the only download).
 * The blob must come from the same Node version as the target, so the pinned Node for this
 * machine writes it; it holds the bundle's source and no code cache, nothing that depends on
 * the architecture (an arm64 binary carrying a blob written by x64 Node runs under qemu-user:
 * test/binary-arm64.test.ts). On a platform without a pinned package (macOS, Windows, untested)
 * the running Node is used for both, as before. The result runs on the target's Linux with
 * glibc and needs nothing else; it is checked with `--version` before the build reports
 * success, under qemu-user for another architecture when qemu and the cross libraries exist.
 *
 * Exit status: 0 built, 1 failed, 3 cannot be built here (the reason on stderr).
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
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleCli, packageVersion } from './bundle.js';
import {
  ARCHES,
  type Arch,
  nodePackage,
  nodeVersion,
  pinnedNode,
  runPrefix,
} from './node-runtime.js';

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

/** The two Nodes of a build: the one whose copy becomes the binary, and the one writing the blob. */
interface Nodes {
  target: string;
  blobWriter: string;
  version: string;
}

/** The pinned Node for `arch` and for this machine (see the header), or the running Node. */
function chooseNodes(arch: Arch): Nodes {
  if (process.platform === 'linux' && nodePackage(arch) !== undefined) {
    if (nodePackage(process.arch) === undefined) {
      throw new CannotBuild(
        `no Node package is pinned for linux-${process.arch} to write the blob`,
      );
    }
    const blobWriter = pinnedNode(process.arch as Arch);
    const version = nodeVersion(blobWriter);
    if (version === undefined) throw new Error(`${blobWriter} --version failed`);
    return { target: arch === process.arch ? blobWriter : pinnedNode(arch), blobWriter, version };
  }
  if (arch !== process.arch) {
    throw new CannotBuild(`no Node package is pinned for ${process.platform}-${arch}`);
  }
  console.warn(
    `build-binary: no Node package is pinned for ${process.platform}-${arch}; using the running Node ${process.versions.node}`,
  );
  return { target: process.execPath, blobWriter: process.execPath, version: process.versions.node };
}

/** Why `nodes` cannot produce a single executable, or undefined if they can. */
function seaUnsupportedReason(nodes: Nodes): string | undefined {
  const [major = 0] = nodes.version.split('.').map(Number);
  if (major < 20) return `Node ${nodes.version} is too old (20 or later is needed)`;
  if (!['linux', 'darwin', 'win32'].includes(process.platform)) {
    return `Node has no single-executable support on ${process.platform}`;
  }
  // Distribution builds of Node sometimes leave SEA support out; the fuse is then missing.
  if (!readFileSync(nodes.target).includes(`${SEA_FUSE}:0`)) {
    return `${nodes.target} was built without single-executable support (no SEA fuse); use an official Node build`;
  }
  return undefined;
}

async function buildBinary(output: string, arch: Arch, strip: boolean): Promise<void> {
  const nodes = chooseNodes(arch);
  const reason = seaUnsupportedReason(nodes);
  if (reason !== undefined) throw new CannotBuild(reason);
  const version = packageVersion();
  // One work folder per output: the x64 and arm64 builds may run at the same time (the tests).
  const work = join(dirname(output), `sea-${basename(output)}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const bundle = join(work, 'linkfwd.cjs');
  const blob = join(work, 'linkfwd.blob');

  await bundleCli(bundle);

  const seaConfig = join(work, 'sea-config.json');
  // No `useCodeCache`: it saves about 12 ms of CPU at start-up, but V8 rejects the cache when
  // NODE_OPTIONS carries a V8 flag (--max-old-space-size, common in containers and meant for
  // the app), and Node then prints "Code cache data rejected" on linkfwd's stderr every time.
  // Without it the blob is also free of anything specific to the architecture.
  const config = { main: bundle, output: blob, disableExperimentalSEAWarning: true };
  writeFileSync(seaConfig, `${JSON.stringify(config, null, 2)}\n`);
  run(nodes.blobWriter, ['--experimental-sea-config', seaConfig]);

  // Assembled beside the target and renamed: a failed build never leaves a half-made binary.
  const partial = `${output}.partial`;
  copyFileSync(nodes.target, partial);
  chmodSync(partial, 0o755);
  if (process.platform === 'linux' && strip) stripSymbols(partial, arch);
  if (process.platform === 'darwin') run('codesign', ['--remove-signature', partial]);
  await quietLief(() =>
    inject(partial, 'NODE_SEA_BLOB', readFileSync(blob), {
      sentinelFuse: SEA_FUSE,
      ...(process.platform === 'darwin' ? { machoSegmentName: 'NODE_SEA' } : {}),
    }),
  );
  if (process.platform === 'darwin') run('codesign', ['--sign', '-', partial]);
  renameSync(partial, output);
  rmSync(work, { recursive: true, force: true });

  const prefix = runPrefix(arch);
  if (prefix === undefined) {
    console.warn(
      `build-binary: ${output} not run: no qemu-user or ${arch} libraries here to check --version`,
    );
  } else {
    const [file = output, ...args] = [...prefix, output, '--version'];
    const check = spawnSync(file, args, { encoding: 'utf8', timeout: 60_000 });
    if (check.status !== 0 || check.stdout.trim() !== version) {
      throw new Error(
        `${[...prefix, output].join(' ')} --version printed ${JSON.stringify(check.stdout)} ` +
          `(status ${check.status}), expected ${version}\n${check.stderr}`,
      );
    }
  }
  const size = statSync(output).size;
  console.log(
    `${relative(process.cwd(), output) || output}: linkfwd ${version} on Node ${nodes.version} ` +
      `${process.platform}-${arch}, ${(size / 2 ** 20).toFixed(1)} MiB (${size} bytes)`,
  );
}

/** GNU binutils' name for an architecture, for cross `strip` (Debian: binutils-aarch64-linux-gnu). */
const GNU_TRIPLE: Record<Arch, string> = {
  x64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
};

/**
 * Drops the symbol table and debug info (about 17 MiB of Node 24's 121 MiB); `.dynsym`, which
 * native addons link against, stays. Without binutils the copy is left as it is.
 */
function stripSymbols(file: string, arch: Arch): void {
  // The host's strip reads only its own architecture's ELF files.
  const strip = arch === process.arch ? 'strip' : `${GNU_TRIPLE[arch]}-strip`;
  const result = spawnSync(strip, ['--strip-all', file], { encoding: 'utf8' });
  if (result.error !== undefined) {
    console.warn(
      `build-binary: ${strip} not found (binutils), keeping the symbols: ${result.error.message}`,
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
        arch: { type: 'string', default: process.arch },
        output: { type: 'string' },
        'no-strip': { type: 'boolean', default: false },
      },
    });
    const arch = values.arch as Arch;
    if (!ARCHES.includes(arch)) {
      throw new CannotBuild(`--arch ${values.arch}: one of ${ARCHES.join(', ')} is needed`);
    }
    const name = `linkfwd${arch === process.arch ? '' : `-${arch}`}`;
    const output = resolve(
      values.output ?? join(ROOT, 'build', process.platform === 'win32' ? `${name}.exe` : name),
    );
    mkdirSync(dirname(output), { recursive: true });
    await buildBinary(output, arch, !values['no-strip']);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(
      `build-binary: ${error instanceof CannotBuild ? 'cannot build here: ' : ''}${message}`,
    );
    process.exitCode = error instanceof CannotBuild ? EXIT_CANNOT_BUILD : 1;
  }
}
