// The Dockerfile's stages, and the example app image built on its binary target, checked
// against what they promise; npm run test:container builds and runs them.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { EXAMPLES, ROOT, readRepoFile } from './helpers/cli.js';
import { instructions, parseCopy, parseDockerfile, type Stage } from './helpers/dockerfile.js';

describe('Dockerfile', { timeout: 10_000 }, () => {
  const stages = parseDockerfile(readRepoFile('Dockerfile'));
  const stage = (name: string): Stage => {
    const found = stages.find((s) => s.name === name);
    assert.ok(found !== undefined, `a stage named ${name}`);
    return found;
  };
  const lastArgs = (s: Stage, keyword: string) => instructions(s, keyword).at(-1)?.args;

  test('the default target runs the npm bin as user node, without node_modules', {
    timeout: 5_000,
  }, () => {
    const runtime = stages.at(-1)!;
    assert.equal(runtime.name, 'runtime');
    assert.equal(runtime.base, 'node:24-bookworm-slim');
    const bin = (JSON.parse(readRepoFile('package.json')) as { bin: { linkfwd: string } }).bin
      .linkfwd;
    assert.equal(lastArgs(runtime, 'WORKDIR'), '/app');
    assert.deepEqual(JSON.parse(lastArgs(runtime, 'ENTRYPOINT') ?? 'null'), [
      'node',
      `/app/${bin}`,
    ]);
    assert.equal(lastArgs(runtime, 'USER'), 'node');
    // One RUN: `linkfwd` on PATH, checked by running it.
    assert.deepEqual(
      instructions(runtime, 'RUN').map((r) => r.args),
      [`ln -s /app/${bin} /usr/local/bin/linkfwd && linkfwd --version`],
    );
    const copied = instructions(runtime, 'COPY').map(parseCopy);
    assert.ok(copied.some((c) => c.sources.includes(`/app/${bin}`) && c.destination === bin));
    // The bundle needs no dependency installed (npm run test:container runs the image).
    assert.ok(!copied.some((c) => c.sources.some((source) => source.includes('node_modules'))));
    assert.match(readRepoFile('Dockerfile'), /docker run --init/);
  });

  test('the binary target carries only the single executable, on debian:bookworm-slim', {
    timeout: 5_000,
  }, () => {
    const binary = stage('binary');
    assert.equal(binary.base, 'debian:bookworm-slim');
    const copies = instructions(binary, 'COPY').map(parseCopy);
    assert.equal(copies.length, 1);
    assert.deepEqual(copies[0]!.sources, ['/app/build/linkfwd']);
    assert.equal(copies[0]!.destination, '/usr/local/bin/linkfwd');
    assert.match(
      instructions(stage(copies[0]!.from!), 'RUN')
        .map((r) => r.args)
        .join('\n'),
      /npm run build:binary/,
    );
    assert.deepEqual(JSON.parse(lastArgs(binary, 'ENTRYPOINT') ?? 'null'), [
      '/usr/local/bin/linkfwd',
    ]);
    assert.notEqual(lastArgs(binary, 'USER') ?? 'root', 'root');
  });

  test('stages, scripts and build-context files it names exist', { timeout: 5_000 }, () => {
    const scripts = (
      JSON.parse(readRepoFile('package.json')) as { scripts: Record<string, string> }
    ).scripts;
    const ignore = readRepoFile('.dockerignore')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'));
    assert.equal(ignore[0], '*', '.dockerignore is an allow-list');
    const allowed = ignore
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1).replace(/\/$/, ''));
    stages.forEach((s, index) => {
      const earlier = stages.slice(0, index).map((e) => e.name);
      if (s.base.includes(':') === false) assert.ok(earlier.includes(s.base), `FROM ${s.base}`);
      for (const run of instructions(s, 'RUN')) {
        for (const [, script] of run.args.matchAll(/npm run ([\w:-]+)/g))
          assert.ok(script! in scripts, `npm run ${script}`);
      }
      for (const copy of instructions(s, 'COPY').map(parseCopy)) {
        if (copy.from !== undefined) {
          assert.ok(earlier.includes(copy.from), `COPY --from=${copy.from} names an earlier stage`);
          continue;
        }
        for (const source of copy.sources.map((path) => path.replace(/\/$/, ''))) {
          assert.ok(existsSync(join(ROOT, source)), `COPY ${source}: no such file`);
          assert.ok(
            allowed.some((a) => source === a || source.startsWith(`${a}/`)),
            `COPY ${source}: excluded by .dockerignore`,
          );
        }
      }
    });
  });

  test('the example app image copies the binary from where the binary target puts it', {
    timeout: 5_000,
  }, () => {
    const [app] = parseDockerfile(readRepoFile('examples/app-image/Dockerfile'));
    const copies = instructions(app!, 'COPY').map(parseCopy);
    const linkfwd = copies.find((c) => c.from === 'linkfwd:binary');
    assert.deepEqual(linkfwd?.sources, ['/usr/local/bin/linkfwd']);
    for (const copy of copies.filter((c) => c.from === undefined)) {
      for (const source of copy.sources) {
        assert.ok(
          statSync(join(EXAMPLES, 'app-image', source)).mode & 0o111,
          `${source} is executable`,
        );
      }
    }
  });
});
