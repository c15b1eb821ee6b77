import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { cleanEnv, ROOT } from '../../test/helpers/cli.js';
import { figure, type Scale } from '../scale.js';

/**
 * Fuzzing: the property suite of the parsers (`test/parsers.property.test.ts`) at
 * `scale.fuzzRuns` cases per property. At quick scale `npm test` already runs it at its default.
 */
export function fuzzCases(scale: Scale): void {
  if (scale.fuzzRuns === 0) return;
  describe('fuzzing', () => {
    test(`spec and link parsers: ${scale.fuzzRuns} fast-check cases per property`, {
      timeout: 300_000,
    }, async (t) => {
      const started = Date.now();
      const { status, stdout } = await new Promise<{ status: number | null; stdout: string }>(
        (resolve) => {
          execFile(
            process.execPath,
            ['--import', 'tsx', '--test', '--test-reporter=tap', 'test/parsers.property.test.ts'],
            {
              cwd: ROOT,
              env: cleanEnv({ LINKFWD_FUZZ_RUNS: String(scale.fuzzRuns) }),
              timeout: 280_000,
              killSignal: 'SIGKILL',
              maxBuffer: 64 * 1024 * 1024,
            },
            (error, out) =>
              resolve({ status: error ? ((error.code as number | null) ?? 1) : 0, stdout: out }),
          );
        },
      );
      const took = (Date.now() - started) / 1000;
      assert.equal(status, 0, stdout.slice(-3000));
      const passed = Number(/^# pass (\d+)$/m.exec(stdout)?.[1]);
      assert.ok(passed >= 4, `only ${passed} properties passed`);
      figure(t, scale, `fast-check, ${passed} properties × ${scale.fuzzRuns} cases`, took, 's');
    });
  });
}
