// The readers the example checks rely on (examples-plans.test.ts): the YAML subset and the
// shell words.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { shellCommands } from './helpers/shell-words.js';
import { parseYamlDocuments } from './helpers/yaml-subset.js';

describe('example readers', { timeout: 5_000 }, () => {
  test('the YAML reader reads what the examples use and refuses the rest', {
    timeout: 5_000,
  }, () => {
    const [doc] = parseYamlDocuments(
      [
        'a:',
        '  b: "x # y"',
        '  c: ["1", "2"]  # comment',
        '  d:',
        '  - e: f',
        '    g: h',
        "  - 'i''j'",
      ].join('\n'),
    );
    assert.deepEqual(doc, { a: { b: 'x # y', c: ['1', '2'], d: [{ e: 'f', g: 'h' }, "i'j"] } });
    for (const bad of [
      'a: &anchor x',
      'a: |',
      'a: {b: c}',
      'a:\n\tb: c',
      'a: b\n    c: d',
      'a b',
    ]) {
      assert.throws(() => parseYamlDocuments(bad), Error, JSON.stringify(bad));
    }
  });

  test('the shell reader splits, unquotes and expands like sh', { timeout: 5_000 }, () => {
    const script = [
      '# docker run --comment',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: sh syntax under test, not a template
      'docker run -e "A=${X:-d e}" \\',
      "  --name 'n' img -- a\\ b && docker run img2 >/dev/null 2>&1",
      'echo docker run',
    ].join('\n');
    assert.deepEqual(shellCommands(script, ['docker', 'run']), [
      ['docker', 'run', '-e', 'A=d e', '--name', 'n', 'img', '--', 'a b'],
      ['docker', 'run', 'img2'],
    ]);
    assert.deepEqual(shellCommands('docker run -e A=$X i', ['docker', 'run'], { X: 'v' }), [
      ['docker', 'run', '-e', 'A=v', 'i'],
    ]);
    assert.throws(() => shellCommands('docker run $(pwd)', ['docker', 'run']));
  });
});
