/**
 * The npm package as a user gets it: `npm pack`, then installed from the tarball into a
 * project of the test's own. It must install without running a build or asking for script
 * approval, bring only what runs, and keep every link of its README.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from './helpers/cli.js';

const run = promisify(execFile);
const SLOW = { timeout: 120_000 };

describe('the packed package', () => {
  let dir = '';
  let files: string[] = [];
  let tarball = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'linkfwd-package-'));
    // --ignore-scripts: `npm test` has built dist/ already (pretest).
    const { stdout } = await run(
      'npm',
      ['pack', '--json', '--ignore-scripts', '--pack-destination', dir],
      {
        cwd: ROOT,
      },
    );
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    assert.ok(packed);
    files = packed.files.map((file) => file.path);
    tarball = join(dir, packed.filename);
  });

  test('holds what runs, and the documents its README links to', () => {
    for (const file of ['dist/linkfwd.cjs', 'dist/bin.js', 'dist/index.js', 'dist/index.d.ts']) {
      assert.ok(files.includes(file), file);
    }
    assert.deepEqual(
      files.filter((file) => file.startsWith('dist/cli/')),
      [],
      'the CLI is bundled in dist/linkfwd.cjs',
    );
  });

  test('every relative link of the README points into the package', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
      .map(([, target = '']) => target)
      .filter((target) => !/^[a-z]+:/.test(target));
    assert.ok(links.length > 0);
    for (const link of links) {
      const path = link.replace(/\/$/, '');
      assert.ok(
        files.some((file) => file === path || file.startsWith(`${path}/`)),
        `README links to ${link}, which the package does not hold`,
      );
    }
  });

  test('the README opens with the entrypoint it replaces, then installs as tested here', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const at = (heading: string) => readme.indexOf(`\n## ${heading}\n`);
    const [install, quickStart, usage] = [at('Install'), at('Quick start'), at('Usage')];
    assert.ok(
      install > 0 && install < quickStart && quickStart < usage,
      'install, quick start, usage',
    );
    const intro = readme.slice(0, install);
    assert.match(intro, /\*\*Before\*\*[\s\S]*socat[\s\S]*\*\*After\*\*/);
    // The commands the next test runs: pack, then install the tarball.
    const commands = readme.slice(install, quickStart);
    assert.match(commands, /^npm install && npm pack\b/m);
    assert.match(commands, /^npm install -g \.\/linkfwd-\*\.tgz\b/m);
  });

  test(
    'installs from the tarball with no warning, no build, and only its runtime dependencies',
    SLOW,
    async (t) => {
      const project = join(dir, 'app');
      await run('mkdir', ['-p', project]);
      t.after(() => rm(dir, { recursive: true, force: true }));
      await writeFile(
        join(project, 'package.json'),
        '{"name":"app","version":"1.0.0","private":true}\n',
      );
      const { stdout, stderr } = await run(
        'npm',
        ['install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', tarball],
        { cwd: project },
      );
      assert.doesNotMatch(`${stdout}${stderr}`, /install-scripts|allowScripts|npm run build/);
      const installed = (await readdir(join(project, 'node_modules'))).filter(
        (n) => !n.startsWith('.'),
      );
      // debug and signal-exit for the library; prom-client (and its own) for run({ status }).
      assert.deepEqual(installed.sort(), [
        '@opentelemetry',
        'bintrees',
        'debug',
        'linkfwd',
        'ms',
        'prom-client',
        'signal-exit',
        'tdigest',
      ]);
      const bin = join(project, 'node_modules/.bin/linkfwd');
      const version = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).version;
      assert.equal((await run(bin, ['--version'])).stdout, `${version}\n`);
      const printed = await run(bin, ['--print', '--json', '-f', '5432:db:5432', '--', 'true']);
      assert.equal(JSON.parse(printed.stdout).forwards[0].origin, '5432:db:5432');
      const library = await run(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          "import('linkfwd').then((m) => console.log(typeof m.run, typeof m.planForwards))",
        ],
        { cwd: project },
      );
      assert.equal(library.stdout, 'function function\n');
    },
  );
});
