import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { linkfwdCommand } from '../../test/helpers/cli.js';
import { type EnvironResult, runWithEnviron } from '../../test/helpers/exec-env.js';
import { raiseOwnLimits } from '../../test/helpers/proc.js';
import { FIXTURES } from '../../test/helpers/process.js';
import { freePort } from '../../test/helpers/sockets.js';
import { pool } from '../harness.js';
import { figure, MIB, type Scale } from '../scale.js';
import { CORPUS_PORTS, type CorpusEntry, envCorpus } from './env-corpus.js';

/** Longest a start-up may take, whatever the environment. */
const BOUND = 10_000;
/** Whether `text` has a control character other than the newline that ends each line. */
function hasControl(text: string): boolean {
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if ((code < 0x20 && code !== 0x0a) || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

/** The shape every run must have, whatever it was given: no crash, one clean line per message. */
function assertOrderly(entry: CorpusEntry, mode: string, result: EnvironResult): void {
  const where = `${entry.name} (${mode})`;
  assert.equal(result.signal, null, `${where}: killed (took over ${BOUND} ms?) ${result.stderr}`);
  assert.equal(
    result.status,
    entry.status,
    `${where}: status; stderr: ${result.stderr.slice(0, 500)}`,
  );
  const lines = result.stderr.split('\n').slice(0, -1);
  for (const line of lines) {
    assert.match(line, /^linkfwd: /, `${where}: a stderr line without the prefix`);
    assert.doesNotMatch(line, /internal error|^\s+at /, `${where}: a crash`);
  }
  assert.ok(!hasControl(result.stderr), `${where}: raw control characters on stderr`);
  for (const pattern of entry.stderr ?? [])
    assert.match(result.stderr, pattern, `${where}: stderr`);
  if (entry.lines !== undefined) assert.equal(lines.length, entry.lines, `${where}: stderr lines`);
}

/** Hostile input: environments and options built to break linkfwd's start-up. */
export function hostileInputCases(scale: Scale): void {
  const timeout = scale.name === 'full' ? 300_000 : 60_000;

  describe('hostile input', () => {
    test('a corpus of hostile environments: never a crash, never a shell, the documented warning or 125, in bounded time', {
      timeout,
    }, async (t) => {
      // 100,000 variables are ~2.5 MB: execve() takes a quarter of RLIMIT_STACK for argv + env.
      raiseOwnLimits({ stack: 256 * MIB });
      const dir = mkdtempSync(join(tmpdir(), 'linkfwd-hostile-'));
      const marker = join(dir, 'pwned');
      const ports = new Set<number>();
      while (ports.size < CORPUS_PORTS) ports.add(await freePort('127.0.0.1'));
      const { file, args } = linkfwdCommand();
      const linkfwd = [file, ...args];
      const app = [process.execPath, `${FIXTURES}environ.mjs`];
      const corpus = envCorpus([...ports], marker, scale.envVariables);
      let slowest = { ms: 0, name: '' };
      const failures: string[] = [];
      const times = new Map<string, number>();

      await pool(corpus.length, 2, async (index) => {
        const entry = corpus[index];
        if (entry === undefined) return;
        try {
          const options = entry.args ?? [];
          const results: EnvironResult[] = [];
          // Timed before anything is asserted: a start-up that was killed is reported too.
          const timed = (result: EnvironResult) => {
            times.set(entry.name, Math.max(times.get(entry.name) ?? 0, result.ms));
            if (result.ms > slowest.ms) slowest = { ms: result.ms, name: entry.name };
            results.push(result);
            return result;
          };
          if (scale.corpusModes.includes('print')) {
            const print = timed(
              await runWithEnviron(
                [...linkfwd, ...options, '--print', '--json'],
                entry.environ,
                BOUND,
              ),
            );
            assertOrderly(entry, '--print --json', print);
            if (entry.status === 0) JSON.parse(print.stdout);
          }
          if (scale.corpusModes.includes('run')) {
            const run = timed(
              await runWithEnviron([...linkfwd, ...options, '--', ...app], entry.environ, BOUND),
            );
            assertOrderly(entry, 'run', run);
            if (entry.status === 125) {
              assert.equal(run.stdout, '', `${entry.name}: the app never ran`);
            } else {
              const seen = JSON.parse(run.stdout) as Record<string, string>;
              for (const [name, value] of Object.entries(entry.passes ?? {})) {
                assert.equal(seen[name], value, `${entry.name}: ${name} reached the app unchanged`);
              }
              if (entry.variables !== undefined) {
                assert.equal(Object.keys(seen).length, entry.variables, `${entry.name}: variables`);
              }
            }
          }
        } catch (error) {
          failures.push((error as Error).message);
        }
      });

      // Figures first: they say how long each start-up took, and matter most when one failed.
      figure(
        t,
        scale,
        `hostile environments: ${corpus.length} entries × (${scale.corpusModes.join(', ')}): slowest start-up`,
        `${slowest.ms} ms (${slowest.name})`,
      );
      if (scale.name === 'full') {
        for (const [name, ms] of times)
          figure(t, scale, `hostile environment "${name}": slowest start-up`, ms, 'ms');
      }
      assert.equal(existsSync(marker), false, 'a shell ran a command hidden in the input');
      assert.deepEqual(failures, []);
    });

    test('1 MiB values (beyond what execve takes) through the CLI in-process', {
      timeout,
    }, async (t) => {
      const secret = 's3cr3t'.repeat((1024 * 1024) / 6);
      const env = {
        PATH: '/usr/bin:/bin',
        BIG: 'x'.repeat(1024 * 1024),
        DB_PORT_5432_TCP: `tcp://${'h'.repeat(1024 * 1024)}:5432`,
        X_PORT_1_TCP: secret,
        A_NAME: '/web/a',
        A_ENV_TOKEN: secret,
        A_ENV_B_PORT_2_TCP: `tcp://${secret}:2`,
      };
      const collect = () => {
        const stream = new PassThrough();
        let text = '';
        stream.setEncoding('utf8').on('data', (chunk: string) => {
          text += chunk;
        });
        return { stream, text: () => text };
      };
      let slowest = 0;
      // With a command: --print then exits 0, or 125 for --strict problems.
      for (const argv of [
        ['--print', '--', 'true'],
        ['--print', '--json', '--', 'true'],
        ['--print', '--strict', '--', 'true'],
      ]) {
        const [stdout, stderr] = [collect(), collect()];
        const started = Date.now();
        const status = await main(argv, { env, stdout: stdout.stream, stderr: stderr.stream });
        slowest = Math.max(slowest, Date.now() - started);
        const strict = argv.includes('--strict');
        assert.equal(status, strict ? 125 : 0, stderr.text());
        assert.match(stderr.text(), /DB_PORT_5432_TCP skipped/);
        if (!strict) assert.match(stderr.text(), /X_PORT_1_TCP skipped/);
        for (const out of [stdout.text(), stderr.text()])
          assert.ok(!out.includes('s3cr3t'), 'a secret was printed');
      }
      assert.ok(slowest < BOUND, `took ${slowest} ms`);
      figure(t, scale, '1 MiB values, --print in-process: slowest', slowest, 'ms');
    });
  });
}
