import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { formatDuration } from '../src/options/duration.js';
import { DEFAULTS, OPTIONS, type OptionDef } from '../src/options/index.js';
import { ROOT } from './helpers/cli.js';

const HEADER = '| option | variable | default | meaning |';

/** The README row of one option, as the option table defines it. */
function row(def: OptionDef<unknown, unknown>): string {
  const names = [def.alias && `-${def.alias}`, `--${def.flag}`].filter(Boolean).join(', ');
  const flag = `\`${names}${def.value ? ` ${def.value}` : ''}\``;
  const option =
    def.kind === 'switch' && def.default === true ? `${flag} / \`--no-${def.flag}\`` : flag;
  const env = def.env === undefined ? '' : `\`${def.env}\``;
  return `| ${option} | ${env} | ${def.defaultText} | ${def.describe} |`;
}

describe('the option table (src/options/table.ts)', () => {
  test("the README's option table is the option table", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
    const start = readme.indexOf(HEADER);
    assert.notEqual(start, -1, `README.md has no table headed ${HEADER}`);
    const end = readme.findIndex((line, i) => i > start && !line.startsWith('|'));
    const rows = readme.slice(start + 2, end);
    const expected = Object.values(OPTIONS).map(row);
    assert.deepEqual(
      rows,
      expected,
      `README.md should read:\n${HEADER}\n|---|---|---|---|\n${expected.join('\n')}`,
    );
  });

  test('each default is shown as it is', () => {
    const shown: [keyof typeof DEFAULTS, string][] = [
      ['links', 'on'],
      ['strict', 'off'],
      ['wait', 'off'],
      ['exclude', DEFAULTS.exclude.join(' and ')],
      ['bind', DEFAULTS.bind.join(' and ')],
      ['connectTimeout', formatDuration(DEFAULTS.connectTimeout)],
      ['waitTimeout', formatDuration(DEFAULTS.waitTimeout)],
      ['idleTimeout', `${DEFAULTS.idleTimeout} (off)`],
      ['maxConnections', `${DEFAULTS.maxConnections} per forward`],
    ];
    const byKey = OPTIONS as Record<string, OptionDef<unknown, unknown>>;
    for (const [key, text] of shown) assert.equal(byKey[key]?.defaultText, text, key);
  });

  test('every setting has a LINKFWD_ variable named after its flag', () => {
    for (const def of Object.values(OPTIONS)) {
      if (def.env === undefined) continue;
      assert.equal(def.env, `LINKFWD_${def.flag.toUpperCase().replaceAll('-', '_')}`);
    }
  });
});
