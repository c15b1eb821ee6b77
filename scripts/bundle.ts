/**
 * `npm run build` (after `tsc`): the CLI as one CommonJS file, `dist/linkfwd.cjs` (the npm bin),
 * bundled by esbuild from src/cli/bin.ts with its dependencies. Node then compiles one file at
 * start-up instead of ~70 ES modules (yargs and its dependencies), and CommonJS spares it the
 * ES module loader: together most of linkfwd's start-up time. `dist/bin.js` becomes a stub that
 * loads it, for `node dist/bin.js`. The library (`dist/index.js`) stays the `tsc` output. The
 * single-executable build (build-binary.ts) runs the same {@link bundleCli}. Two stages
 * travel inside it as source strings: the forwarding thread and the status endpoint (which
 * carries its HTTP thread the same way).
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
function bundleWorker(): Promise<string> {
  return bundleThread('src/forward/worker.ts');
}

/** A thread's entry module as one CommonJS script, for `new Worker(source, { eval: true })`. */
async function bundleThread(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [resolve(ROOT, entry)],
    write: false,
    ...COMMON,
    logLevel: 'warning',
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error(`esbuild wrote nothing for ${entry}`);
  return output.text;
}

/**
 * The modules src/status/ imports from the rest of linkfwd. The status bundle takes them from
 * the CLI's own copy, never one of its own: one `LinkfwdError` class (the CLI tells its errors by
 * `instanceof`), one open-file budget (the metrics read the forwarders' budget), one plan.
 */
const SHARED_WITH_STATUS = /^\.\.\/(errors|forward\/index|plan\/index)\.js$/;

/**
 * The status stage (src/status/, prom-client and all) as one CommonJS function body, carried
 * by the CLI as a string and compiled only with `--status`. As code in the CLI bundle, its
 * ~75 KiB would be parsed at every start, `--status` or not: V8's compile of the bundle took
 * 15.2 ms with it, 9.9 ms with the string (BENCHMARKS.md, "The status endpoint under a
 * flood"). Its imports of {@link SHARED_WITH_STATUS} become `require('linkfwd:…')`, which the
 * loader below answers with the CLI's own modules.
 */
async function bundleStatus(): Promise<string> {
  const shared: Plugin = {
    name: 'shared-with-status',
    setup(esbuild) {
      esbuild.onResolve({ filter: SHARED_WITH_STATUS }, (args) => ({
        path: `linkfwd:${args.path.slice(3, -3)}`,
        external: true,
      }));
    },
  };
  // The endpoint's HTTP thread (src/status/http-thread.ts) travels inside it, as source.
  const thread = await bundleThread('src/status/http-thread.ts');
  const result = await build({
    entryPoints: [resolve(ROOT, 'src/status/index.ts')],
    write: false,
    ...COMMON,
    plugins: [shared],
    define: { __LINKFWD_STATUS_THREAD__: JSON.stringify(thread) },
    // server.ts reads import.meta.url only where the thread is not carried as source.
    logOverride: { 'empty-import-meta': 'silent' },
    logLevel: 'warning',
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error('esbuild wrote no status bundle');
  return output.text;
}

/** In the CLI, `./status/index.js` (imported by run.ts only with `--status`) is this loader. */
const STATUS_LOADER = `
import * as errors from './errors.js';
import * as forward from './forward/index.js';
import * as plan from './plan/index.js';
import { compileFunction } from 'node:vm';

const shared = { 'linkfwd:errors': errors, 'linkfwd:forward/index': forward, 'linkfwd:plan/index': plan };
const module = { exports: {} };
compileFunction(__LINKFWD_STATUS__, ['exports', 'require', 'module'], { filename: 'linkfwd-status.cjs' })(
  module.exports,
  (id) => shared[id] ?? require(id),
  module,
);
export const startStatusServer = module.exports.startStatusServer;
`;

const embeddedStatus: Plugin = {
  name: 'embedded-status',
  setup(esbuild) {
    esbuild.onResolve({ filter: /^\.\/status\/index\.js$/ }, () => ({
      path: 'status-loader',
      namespace: 'linkfwd',
    }));
    esbuild.onLoad({ filter: /.*/, namespace: 'linkfwd' }, () => ({
      contents: STATUS_LOADER,
      loader: 'ts',
      resolveDir: resolve(ROOT, 'src'),
    }));
  },
};

/** Bundles src/cli/bin.ts into one CommonJS file, runnable by `node` or as a single executable. */
export async function bundleCli(outfile: string): Promise<void> {
  const [worker, status] = await Promise.all([bundleWorker(), bundleStatus()]);
  await build({
    entryPoints: [resolve(ROOT, 'src/cli/bin.ts')],
    outfile,
    ...COMMON,
    alias: {
      'string-width': resolve(ROOT, 'scripts/shims/string-width.ts'),
      assert: resolve(ROOT, 'scripts/shims/assert.ts'),
    },
    plugins: [noArgsert, embeddedStatus],
    // yargs is ESM and derives paths from import.meta.url, which CommonJS lacks. Its locale
    // files then resolve beside the bundle, find nothing, and leave yargs in English.
    define: {
      'import.meta.url': '__importMetaUrl',
      __LINKFWD_VERSION__: JSON.stringify(packageVersion()),
      __LINKFWD_WORKER__: JSON.stringify(worker),
      __LINKFWD_STATUS__: JSON.stringify(status),
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
