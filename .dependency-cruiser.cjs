/**
 * The boundaries between linkfwd's stages (ARCHITECTURE.md), checked by `npm run lint`.
 * test/boundaries.test.ts shows that each rule fails a forbidden import.
 */
const STAGES = '(plan|options|forward|supervise|status|cli)';
/** Modules that open sockets, start processes or touch files: not for the pure stages. */
const IO = '(net|dgram|child_process|cluster|http|https|tls|fs|fs/promises|worker_threads)';
const IO_MODULES = `^(node:)?${IO}$`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import circle anywhere, type-only ones included.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'pure-stages-do-no-io',
      severity: 'error',
      comment: 'plan/ and options/ are pure: no socket, process or file modules.',
      from: { path: '^src/(plan|options)/' },
      to: { path: IO_MODULES },
    },
    {
      name: 'pure-stages-import-no-io-stage',
      severity: 'error',
      comment: 'plan/ and options/ never import the stages that do I/O, nor the top.',
      from: { path: '^src/(plan|options)/' },
      to: { path: '^src/((forward|supervise|cli)/|run\\.ts$|index\\.ts$)' },
    },
    {
      name: 'plan-below-options',
      severity: 'error',
      comment: 'options/ builds on plan/ (spec and address parsers), never the reverse.',
      from: { path: '^src/plan/' },
      to: { path: '^src/options/' },
    },
    {
      name: 'forward-and-supervise-apart',
      severity: 'error',
      comment: 'The forwarder and the supervisor never import each other; run.ts ties them.',
      from: { path: '^src/(forward|supervise)/' },
      to: { path: '^src/(forward|supervise)/', pathNot: '^src/$1/' },
    },
    {
      name: 'status-on-top',
      severity: 'error',
      comment: 'status/ reads the forwarders; forward/ and supervise/ never import it.',
      from: { path: '^src/(forward|supervise)/' },
      to: { path: '^src/status/' },
    },
    {
      name: 'stages-not-above',
      severity: 'error',
      comment: 'Stages never import run.ts, index.ts or cli/ (the top imports them).',
      from: { path: `^src/${STAGES}/`, pathNot: '^src/cli/' },
      to: { path: '^src/(cli/|run\\.ts$|index\\.ts$)' },
    },
    {
      name: 'only-through-index',
      severity: 'error',
      comment: "A folder's files are private: other folders import its index.ts only.",
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/[^/]+/.+', pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$'] },
    },
    {
      name: 'top-only-through-index',
      severity: 'error',
      comment: 'run.ts, index.ts, errors.ts and log.ts import a folder through its index.ts only.',
      from: { path: '^src/[^/]+\\.ts$' },
      to: { path: '^src/[^/]+/.+', pathNot: '^src/[^/]+/index\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: `^(src/|(node:)?${IO}$)`,
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
    builtInModules: { add: [] },
  },
};
