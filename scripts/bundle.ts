/**
 * `npm run build` (after `tsc`): the CLI as one CommonJS file, `dist/linkfwd.cjs` (the npm bin),
 * bundled by esbuild from src/cli/bin.ts with its dependencies. Node then compiles one file at
 * start-up instead of ~70 ES modules (yargs and its dependencies), and CommonJS spares it the
 * ES module loader: together most of linkfwd's start-up time. `dist/bin.js` becomes a stub that
 * loads it, for `node dist/bin.js`. The library (`dist/index.js`) stays the `tsc` output. The
 * single-executable build (build-binary.ts) runs the same {@link bundleCli}.
 *
 * Start-up costs removed from the dependencies (each measured in a CPU profile of
 * `linkfwd -f … -- true`):
 * - `string-width` (yargs, cliui) builds an `Intl.Segmenter` and Unicode-property regular
 *   expressions as it loads (~15 ms) only to lay out `--help`: a stand-in, scripts/shims/.
 * - `assert` (yargs) loads node:assert, which opens stderr for its colours: a stand-in.
 * - yargs checks the arguments of its own API calls at run time (`argsert`, ~2 ms); linkfwd's
 *   calls are fixed, so the bundle drops the check.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** linkfwd's version from package.json, inlined into the bundle as `__LINKFWD_VERSION__`. */
export function packageVersion(): string {
  const text = readFileSync(resolve(ROOT, 'package.json'), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

const noArgsert: Plugin = {
  name: 'no-argsert',
  setup(esbuild) {
    esbuild.onLoad({ filter: /[\\/]yargs[\\/]build[\\/]lib[\\/]argsert\.js$/ }, () => ({
      contents: 'export function argsert() {}',
      loader: 'js',
    }));
  },
};

/** One CommonJS file for Node 22 and later, minified. */
const COMMON = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  minify: true,
  legalComments: 'none',
} as const;

/**
 * The forwarding thread (src/forward/worker.ts) as one CommonJS script, for `new Worker(source,
 * { eval: true })`: the CLI carries it as a string, so neither the npm bin nor the single
 * executable (whose script is no file on disk) needs a second file.
 */
async function bundleWorker(): Promise<string> {
  const result = await build({
    entryPoints: [resolve(ROOT, 'src/forward/worker.ts')],
    write: false,
    ...COMMON,
    logLevel: 'warning',
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error('esbuild wrote no worker');
  return output.text;
}

/** Bundles src/cli/bin.ts into one CommonJS file, runnable by `node` or as a single executable. */
export async function bundleCli(outfile: string): Promise<void> {
  const worker = await bundleWorker();
  await build({
    entryPoints: [resolve(ROOT, 'src/cli/bin.ts')],
    outfile,
    ...COMMON,
    alias: {
      'string-width': resolve(ROOT, 'scripts/shims/string-width.ts'),
      assert: resolve(ROOT, 'scripts/shims/assert.ts'),
    },
    plugins: [noArgsert],
    // yargs is ESM and derives paths from import.meta.url, which CommonJS lacks. Its locale
    // files then resolve beside the bundle, find nothing, and leave yargs in English.
    define: {
      'import.meta.url': '__importMetaUrl',
      __LINKFWD_VERSION__: JSON.stringify(packageVersion()),
      __LINKFWD_WORKER__: JSON.stringify(worker),
    },
    // Before esbuild's own "use strict", which would otherwise not come first and so not count.
    banner: {
      js: "'use strict';\nvar __importMetaUrl = require('url').pathToFileURL(__filename).href;",
    },
    // yargs' `extends` support calls import.meta.resolve; linkfwd never uses `extends`.
    logOverride: { 'empty-import-meta': 'silent' },
    logLevel: 'warning',
  });
}

const STUB = `#!/usr/bin/env node
// linkfwd's CLI is dist/linkfwd.cjs, the npm bin (scripts/bundle.ts); \`node dist/bin.js\` loads it.
import { createRequire } from 'node:module';

createRequire(import.meta.url)('./linkfwd.cjs');
`;

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const cli = resolve(ROOT, 'dist/linkfwd.cjs');
  await bundleCli(cli);
  chmodSync(cli, 0o755);
  const stub = resolve(ROOT, 'dist/bin.js');
  writeFileSync(stub, STUB);
  chmodSync(stub, 0o755);
}
