// Which Node runs the suite. `npm test` runs on the Node pinned in scripts/node/package.json
// (node_modules/.bin/node, first on PATH in npm scripts), not on the host's `node`; CI also runs
// the same command on Node 22 (.ci/run). See scripts/node-runtime.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { nodePackage, PINNED_NODE_VERSION } from '../scripts/node-runtime.js';

const [major = 0] = process.versions.node.split('.').map(Number);
console.log(
  `# test runner: Node ${process.version} ${process.platform}-${process.arch} (${process.execPath})`,
);

test('the runner is a supported Node: 22.12 or later', () => {
  assert.ok(major >= 22, `the tests run on Node ${process.version}; 22.12 or later is needed`);
  if (major === 22) assert.ok(Number(process.versions.node.split('.')[1]) >= 12, process.version);
});

test('`node` on PATH, which fixtures and examples start by name, is the runner’s Node', () => {
  const result = spawnSync('node', ['-p', 'process.version'], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), process.version);
});

test('`npm test` runs on the pinned Node 24, whatever the host’s `node` is', {
  skip:
    process.env.npm_lifecycle_event !== 'test'
      ? 'not started by `npm test` (the Node is the caller’s choice, e.g. CI’s Node 22 round)'
      : nodePackage(process.arch) === undefined
        ? `no Node package is pinned for ${process.platform}-${process.arch}: the host's node runs`
        : false,
}, () => {
  assert.equal(process.versions.node, PINNED_NODE_VERSION);
  assert.match(process.version, /^v24\./);
});
