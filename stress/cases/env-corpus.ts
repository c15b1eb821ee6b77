/** One hostile start-up: an environment block and options, and what linkfwd must make of it. */
export interface CorpusEntry {
  name: string;
  /** The whole environment block, raw: duplicates, bytes and entries without `=` allowed. */
  environ: (string | Buffer)[];
  /** linkfwd options (before `--print` or the command). */
  args?: string[];
  /** The documented outcome: 0 (with warnings) or 125. */
  status: 0 | 125;
  /** stderr must match each of these. */
  stderr?: RegExp[];
  /** The app must receive these variables with exactly these values (run mode, status 0). */
  passes?: Record<string, string>;
  /** The app must receive exactly this many variables. */
  variables?: number;
  /** stderr must have exactly this many lines. */
  lines?: number;
}

const MAX_ENTRY = 128 * 1024 - 1; // MAX_ARG_STRLEN less the NUL: the longest "NAME=value" execve takes

/** How many distinct free ports {@link envCorpus} needs. */
export const CORPUS_PORTS = 8;

/**
 * The hostile environments of the reliability suite. `ports` are {@link CORPUS_PORTS} free
 * local ports: every entry whose forwards are bound in run mode has its own, so that entries
 * can run side by side. `marker` is a file that exists only if something ran a shell command
 * hidden in a value, `variables` the size of the largest environment.
 */
export function envCorpus(
  ports: readonly number[],
  marker: string,
  variables: number,
): CorpusEntry[] {
  const [p = 0, q = 0, many = 0, dotted = 0, duplicated = 0, flag = 0, link = 0, keys = 0] = ports;
  const shell = {
    SUBST: `$(touch ${marker})`,
    BACKTICK: `\`touch ${marker}\``,
    SEMI: `x; touch ${marker}`,
    PIPE: `x | touch ${marker}`,
    AND: `x && touch ${marker}`,
    REDIRECT: `> ${marker}`,
    NEWLINE: `x\ntouch ${marker}`,
    QUOTES: `'"'"\\'`,
    IFS: `\${IFS}touch\${IFS}${marker}`,
    FORMAT: '%s%n%x%p%%',
    GLOB: '* ? [a-z] ~',
    'BASH_FUNC_x%%': `() { touch ${marker}; }`,
  };
  const plenty: string[] = [];
  for (let i = 0; i < variables; i++) plenty.push(`V${i}=value ${i}`);
  const malformed: string[] = [];
  for (let i = 0; i < 100; i++) malformed.push(`BAD${i}_PORT_${i}x_TCP=tcp://h:1`);
  const big = 'b'.repeat(MAX_ENTRY - 'BIG='.length);
  const envNames: string[] = [];
  for (let i = 0; i < 10; i++) {
    const name = `A${i}${'_ENV_'.repeat(Math.floor((MAX_ENTRY - 40) / 5))}_PORT_1_TCP`;
    envNames.push(`${name}=tcp://h:1`);
  }
  const PATH = `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`;
  const bytes = (...parts: (string | number[])[]) =>
    Buffer.concat(
      parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))),
    );

  return [
    {
      name: 'shell metacharacters in values',
      environ: [
        PATH,
        ...Object.entries(shell).map(([k, v]) => `${k}=${v}`),
        `A_PORT_${p}_TCP=tcp://$(touch ${marker}):1`,
        `B_PORT_${q}_TCP=tcp://x;touch ${marker}:1`,
      ],
      status: 0,
      stderr: [new RegExp(`A_PORT_${p}_TCP skipped`), new RegExp(`B_PORT_${q}_TCP skipped`)],
      passes: shell,
    },
    {
      name: 'shell metacharacters in LINKFWD_FORWARD',
      environ: [PATH, `LINKFWD_FORWARD=${p}:$(touch ${marker}):1`],
      status: 125,
      stderr: [/invalid forward/],
    },
    {
      name: 'shell metacharacters in -f',
      environ: [PATH],
      args: ['-f', `${p}:\`touch ${marker}\`:1`],
      status: 125,
      stderr: [/invalid forward/],
    },
    {
      name: `${variables} variables, 100 of them malformed link variables`,
      environ: [PATH, ...plenty, ...malformed, `DB_PORT_${many}_TCP=tcp://127.0.0.2:5432`],
      status: 0,
      stderr: [/BAD0_PORT_0x_TCP skipped/, /BAD99_PORT_99x_TCP skipped/],
      passes: { V0: 'value 0', [`V${variables - 1}`]: `value ${variables - 1}` },
      variables: variables + 102,
    },
    {
      name: 'values of 128 KiB (the most execve takes), secrets among them',
      environ: [
        PATH,
        `BIG=${big}`,
        `DB_PORT_${p}_TCP=tcp://${'h'.repeat(MAX_ENTRY - 40)}:1`,
        'A_NAME=/web/a',
        `A_ENV_SECRET=${'s'.repeat(MAX_ENTRY - 20)}`,
      ],
      status: 0,
      stderr: [new RegExp(`DB_PORT_${p}_TCP skipped`)],
      passes: { BIG: big },
    },
    {
      name: 'names of 128 KiB made of _ENV_ (ten of them)',
      environ: [PATH, ...envNames],
      status: 0,
    },
    {
      name: 'invalid UTF-8 in names and values',
      environ: [
        PATH,
        bytes('BAD=', [0xff, 0xfe]),
        bytes('HALF=', [0xc3]),
        bytes('N', [0xff], '=1'),
        bytes(`DB_PORT_${p}_TCP=tcp://`, [0xff], ':5432'),
        bytes('LINKFWD_EXCLUDE=', [0xff]),
        'GOOD=ünïcödé',
      ],
      status: 0,
      stderr: [new RegExp(`DB_PORT_${p}_TCP skipped`)],
      // What Node makes of it: invalid sequences become U+FFFD, and a name that is not UTF-8
      // is not in process.env at all (see RELIABILITY.md), so the count is not pinned.
      passes: { BAD: '\uFFFD\uFFFD', HALF: '\uFFFD', GOOD: 'ünïcödé' },
    },
    {
      name: 'dotted names',
      environ: [PATH, `MY.DB_PORT_${dotted}_TCP=tcp://127.0.0.2:1`, 'a.b.c=1', '.=dot', '...=dots'],
      status: 0,
      passes: { 'a.b.c': '1', '.': 'dot', '...': 'dots' },
    },
    {
      name: 'ports 0, 65536, -1, 0x50, 00080 in link variables',
      environ: [
        PATH,
        'P0_PORT_0_TCP=tcp://h:1',
        'P1_PORT_65536_TCP=tcp://h:1',
        'P2_PORT_-1_TCP=tcp://h:1',
        'P3_PORT_0x50_TCP=tcp://h:1',
        'P4_PORT_00080_TCP=tcp://h:1',
        `P5_PORT_${p}_TCP=tcp://h:0`,
        `P6_PORT_${p}_TCP=tcp://h:65536`,
        `P7_PORT_${p}_TCP=tcp://h:-1`,
        `P8_PORT_${p}_TCP=tcp://h:0x50`,
      ],
      status: 0,
      stderr: [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => new RegExp(`P${i}_PORT_\\S+_TCP skipped`)),
    },
    ...['0', '65536', '-1', '0x50'].map(
      (bad): CorpusEntry => ({
        name: `-f with local port ${bad}`,
        environ: [PATH],
        args: ['-f', `${bad}:127.0.0.2:80`],
        status: 125,
        stderr: [/local port|invalid forward|argument/],
      }),
    ),
    ...['0', '65536', '-1', '0x50'].map(
      (bad): CorpusEntry => ({
        name: `LINKFWD_FORWARD with target port ${bad}`,
        environ: [PATH, `LINKFWD_FORWARD=${p}:127.0.0.2:${bad}`],
        status: 125,
        stderr: [/target port/],
      }),
    ),
    ...[
      ['LINKFWD_CONNECT_TIMEOUT', '-1'],
      ['LINKFWD_MAX_CONNECTIONS', '0x50'],
      ['LINKFWD_BIND', `0.0.0.0;touch ${marker}`],
      ['LINKFWD_WAIT', '$(true)'],
    ].map(
      ([name, value]): CorpusEntry => ({
        name: `${name}=${value?.replace(marker, 'MARKER')}`,
        environ: [PATH, `${name}=${value}`],
        status: 125,
        stderr: [new RegExp(name ?? '')],
      }),
    ),
    {
      name: 'duplicated variables (two entries, one name)',
      environ: [
        PATH,
        'DUP=first',
        'DUP=second',
        `DB_PORT_${duplicated}_TCP=tcp://127.0.0.2:1`,
        `DB_PORT_${duplicated}_TCP=tcp://127.0.0.3:2`,
      ],
      status: 0,
      passes: { DUP: 'first', [`DB_PORT_${duplicated}_TCP`]: 'tcp://127.0.0.2:1' },
    },
    {
      name: 'contradictory link variables (one port, two targets)',
      environ: [PATH, `A_PORT_${p}_TCP=tcp://127.0.0.2:1`, `B_PORT_${p}_TCP=tcp://127.0.0.3:2`],
      status: 0,
      stderr: [new RegExp(`A_PORT_${p}_TCP.*B_PORT_${p}_TCP`)],
    },
    {
      name: 'contradictory link variables with --strict',
      environ: [PATH, `A_PORT_${p}_TCP=tcp://127.0.0.2:1`, `B_PORT_${p}_TCP=tcp://127.0.0.3:2`],
      args: ['--strict'],
      status: 125,
      stderr: [new RegExp(`A_PORT_${p}_TCP.*B_PORT_${p}_TCP`)],
    },
    {
      name: 'contradictory settings: flags beat variables',
      environ: [
        PATH,
        'LINKFWD_LINKS=0',
        `LINKFWD_FORWARD=${flag}:127.0.0.2:1`,
        `DB_PORT_${link}_TCP=tcp://127.0.0.2:2`,
      ],
      args: ['--links', '-f', `${flag}:127.0.0.3:2`],
      status: 0,
    },
    {
      name: 'two explicit forwards on one port',
      environ: [PATH],
      args: ['-f', `${p}:127.0.0.2:1`, '-f', `${p}:127.0.0.3:2`],
      status: 125,
      stderr: [/both listen/],
    },
    {
      name: 'names that are JavaScript object keys',
      environ: [
        PATH,
        '__proto__=p',
        'constructor=c',
        'toString=t',
        'hasOwnProperty=h',
        `__proto___PORT_${keys}_TCP=tcp://127.0.0.2:1`,
      ],
      status: 0,
      passes: { ['__proto__']: 'p', constructor: 'c', toString: 't', hasOwnProperty: 'h' },
      variables: 6,
    },
    {
      name: 'entries without "=", empty names',
      environ: [PATH, 'NOEQUALS', '=value', '==', 'EMPTY='],
      status: 0,
      passes: { EMPTY: '' },
    },
    {
      name: 'control characters in link variable names',
      environ: [
        PATH,
        'NL_PORT_\nlinkfwd: forged line_TCP=tcp://h:1',
        'ESC_PORT_\u001b[2J\u001b[31m_TCP=tcp://h:1',
        'CR_PORT_\r_TCP=tcp://h:1',
      ],
      status: 0,
      stderr: [/NL_PORT_/, /ESC_PORT_/, /CR_PORT_/],
      lines: 3,
    },
  ];
}
