// The runnable examples (demo, programmatic) run, and every example is documented. The plans
// of the others are checked in examples-plans.test.ts.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cleanEnv, EXAMPLES, readRepoFile, runProgram } from './helpers/cli.js';
import { freePort } from './helpers/sockets.js';

describe('examples', { timeout: 120_000 }, () => {
  test('programmatic: the TypeScript example runs against the library', {
    timeout: 40_000,
  }, async () => {
    const port = await freePort('127.0.0.1');
    const result = await runProgram(
      process.execPath,
      ['--import', 'tsx', join(EXAMPLES, 'programmatic/main.ts')],
      { env: cleanEnv({ EXAMPLE_PORT: String(port) }), timeout: 30_000 },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.match(
      result.stdout,
      /^link: DB_PORT_5432_TCP: listen on 5432\/tcp, dial 172\.17\.0\.5:5432$/m,
    );
    assert.match(
      result.stdout,
      /^link: DNS_PORT_53_UDP: listen on 53\/udp, dial 172\.17\.0\.6:53$/m,
    );
    assert.match(result.stdout, /^link: SIG_PORT_2905_SCTP skipped: sctp is not supported$/m);
    assert.match(result.stdout, new RegExp(`^run: listening on 127\\.0\\.0\\.1:${port}`, 'm'));
    assert.match(result.stdout, /^app: got hello from the service on 127\.0\.0\.2$/m);
    assert.match(result.stdout, /^run: the app exited, status 0$/m);
    assert.doesNotMatch(result.stdout + result.stderr, /example-secret/);
  });

  test('demo: the app reaches the database on 127.0.0.2 through localhost', {
    timeout: 40_000,
  }, async () => {
    const port = await freePort('127.0.0.1');
    const result = await runProgram(process.execPath, [join(EXAMPLES, 'demo/run.mjs')], {
      env: cleanEnv({ DEMO_PORT: String(port) }),
      timeout: 30_000,
    });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^app: database said: DEMO-DB 1\.0 ready$/m);
    assert.match(
      result.stdout,
      new RegExp(`^app: database said: demo database on 127\\.0\\.0\\.2:${port}; `, 'm'),
    );
    assert.match(result.stdout, /^app: database said: BYE$/m);
    assert.match(result.stdout, /^demo: linkfwd exited with status 0$/m);
  });

  test('every example folder has a README and is listed in examples/README.md', {
    timeout: 5_000,
  }, () => {
    const index = readRepoFile('examples/README.md');
    const folders = readdirSync(EXAMPLES, { withFileTypes: true }).filter((entry) =>
      entry.isDirectory(),
    );
    assert.ok(folders.length >= 7);
    for (const folder of folders) {
      const readme = join(EXAMPLES, folder.name, 'README.md');
      assert.ok(existsSync(readme), `${folder.name}/README.md`);
      assert.ok(
        readFileSync(readme, 'utf8').length > 300,
        `${folder.name}/README.md has a paragraph`,
      );
      assert.ok(index.includes(`(${folder.name}/)`), `examples/README.md links ${folder.name}/`);
    }
  });
});
