import { type CliResult, runProgram } from './cli.js';

/**
 * execve()s argv[0] (an absolute path) with exactly this environment block, through libc
 * (ctypes): Node, and Python's own os.execve, would decode it into a dictionary first, losing
 * duplicated names, invalid UTF-8 and entries without `=`. The dispositions Python sets
 * (SIGPIPE, SIGXFSZ ignored) are restored first, since ignored signals survive exec.
 */
const EXEC_WITH_ENVIRON = `
import ctypes, json, os, signal, sys
spec = json.load(sys.stdin)
argv = [bytes.fromhex(word) for word in spec['argv']]
envp = [bytes.fromhex(entry) for entry in spec['environ']]
for name in ('SIGPIPE', 'SIGXFSZ'):
    signal.signal(getattr(signal, name), signal.SIG_DFL)
libc = ctypes.CDLL(None, use_errno=True)
Argv = ctypes.c_char_p * (len(argv) + 1)
Envp = ctypes.c_char_p * (len(envp) + 1)
libc.execve(argv[0], Argv(*argv, None), Envp(*envp, None))
sys.stderr.write('execve: ' + os.strerror(ctypes.get_errno()) + '\\n')
sys.exit(99)
`;

export interface EnvironResult extends CliResult {
  /** Milliseconds from spawn to exit. */
  ms: number;
}

/**
 * Runs `argv` with `environ` as its whole environment: raw `NAME=VALUE` entries, byte strings
 * allowed, in order, duplicates kept. stdout and stderr are collected as UTF-8. Killed with
 * SIGKILL after `timeout` ms (then `signal` is set). execve() itself refuses a block over a
 * quarter of RLIMIT_STACK, or one entry over 128 KiB (E2BIG: status 99).
 */
export async function runWithEnviron(
  argv: readonly string[],
  environ: readonly (string | Buffer)[],
  timeout = 20_000,
): Promise<EnvironResult> {
  const hex = (value: string | Buffer) => Buffer.from(value).toString('hex');
  const started = Date.now();
  const result = await runProgram('python3', ['-c', EXEC_WITH_ENVIRON], {
    input: JSON.stringify({ argv: argv.map(hex), environ: environ.map(hex) }),
    timeout,
  });
  return { ...result, ms: Date.now() - started };
}
