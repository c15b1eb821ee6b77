/**
 * The boundaries between linkfwd's stages (ARCHITECTURE.md), checked by `npm run lint`.
 * test/boundaries.test.ts shows that each rule fails a forbidden import.
 */
const STAGES = '(plan|options|forward|supervise|status|cli)';
/** Modules that open sockets, start processes or touch files: not for the pure stages. */
const IO = '(net|dgram|child_process|cluster|http|https|tls|fs|fs/promises|worker_threads)';
const IO_MODULES = `^(node:)?${IO}$`;

/**
 * The forbidden imports, one row each: name, why, and the paths an import goes from and to.
 * Every rule is an error; `to` may also be `{ circular: true }`.
 */
const RULES = [
  ['no-circular', 'No import circle anywhere, type-only ones included.', {}, { circular: true }],
  [
    'pure-stages-do-no-io',
    'plan/ and options/ are pure: no socket, process or file modules.',
    '^src/(plan|options)/',
    IO_MODULES,
  ],
  [
    'pure-stages-import-no-io-stage',
    'plan/ and options/ never import the stages that do I/O, nor the top.',
    '^src/(plan|options)/',
    '^src/((forward|supervise|cli)/|run\\.ts$|index\\.ts$)',
  ],
  [
    'plan-below-options',
    'options/ builds on plan/ (spec and address parsers), never the reverse.',
    '^src/plan/',
    '^src/options/',
  ],
  [
    'forward-and-supervise-apart',
    'The forwarder and the supervisor never import each other; run.ts ties them.',
    '^src/(forward|supervise)/',
    { path: '^src/(forward|supervise)/', pathNot: '^src/$1/' },
  ],
  [
    'status-on-top',
    'status/ reads the forwarders; forward/ and supervise/ never import it.',
    '^src/(forward|supervise)/',
    '^src/status/',
  ],
  [
    'stages-not-above',
    'Stages never import run.ts, index.ts or cli/ (the top imports them).',
    { path: `^src/${STAGES}/`, pathNot: '^src/cli/' },
    '^src/(cli/|run\\.ts$|index\\.ts$)',
  ],
  [
    'only-through-index',
    "A folder's files are private: other folders import its index.ts only.",
    '^src/([^/]+)/',
    { path: '^src/[^/]+/.+', pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$'] },
  ],
  [
    'top-only-through-index',
    'run.ts, index.ts, errors.ts and log.ts import a folder through its index.ts only.',
    '^src/[^/]+\\.ts$',
    { path: '^src/[^/]+/.+', pathNot: '^src/[^/]+/index\\.ts$' },
  ],
];

/** A path pattern alone stands for `{ path }`. */
const match = (side) => (typeof side === 'string' ? { path: side } : side);

module.exports = {
  forbidden: RULES.map(([name, comment, from, to]) => ({
    name,
    severity: 'error',
    comment,
    from: match(from),
    to: match(to),
  })),
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: `^(src/|(node:)?${IO}$)`,
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
    builtInModules: { add: [] },
  },
};
