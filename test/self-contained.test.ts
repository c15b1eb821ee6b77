/**
 * The repository explains itself (ARCHITECTURE.md): code, docs and tests point only to documents
 * a clone has, and a citation of a section names a heading that exists.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT } from './helpers/cli.js';

/** The files git tracks, as text; binary ones (a NUL byte) left out. */
function trackedTexts(): { path: string; text: string }[] {
  const paths = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((path) => path !== '');
  return paths
    .map((path) => ({ path, text: readFileSync(join(ROOT, path), 'utf8') }))
    .filter(({ text }) => !text.includes('\0'));
}

/** A document's headings, without `#` marks and backticks. */
function headings(document: string): string[] {
  return readFileSync(join(ROOT, document), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('#'))
    .map((line) => line.replace(/^#+\s*/, '').replaceAll('`', ''));
}

/** A document's name, then a heading in double quotes (after a colon, a comma or a space). */
const CITATION =
  /\b(README|ARCHITECTURE\.md|BENCHMARKS\.md|RELIABILITY\.md)(?:[:,]\s*|\s+)\(?"([^"\s,][^"]*)"/g;

describe('self-contained', () => {
  const files = trackedTexts();

  test('every document named in the repository is one of its own', () => {
    const documents = new Set(
      files.filter(({ path }) => path.endsWith('.md')).map(({ path }) => basename(path)),
    );
    assert.ok(documents.has('README.md'));
    const missing = files.flatMap(({ path, text }) =>
      [...text.matchAll(/[\w.-]+\.md\b/g)]
        .map(([name]) => name)
        .filter((name) => !documents.has(name))
        .map((name) => `${path}: ${name}`),
    );
    assert.deepEqual(missing, [], 'documents a clone does not have');
  });

  test('no pointer into a document by section sign and number', () => {
    const marked = files.filter(({ text }) => text.includes('\u00a7')).map(({ path }) => path);
    assert.deepEqual(marked, []);
  });

  test('a cited section is a heading of its document', () => {
    const known = new Map<string, string[]>();
    let cited = 0;
    const dead: string[] = [];
    for (const { path, text } of files) {
      // A citation wrapped over comment lines: the line break and the comment marks are a space.
      const flat = text.replace(/\s*\n\s*(?:\*(?!\/)|\/\/|#)?\s*/g, ' ');
      for (const [, name = '', section = ''] of flat.matchAll(CITATION)) {
        const document = name === 'README' ? 'README.md' : name;
        if (!known.has(document)) known.set(document, headings(document));
        cited += 1;
        // A heading may carry a date or a note in parentheses that a citation leaves out.
        const wanted = section.replaceAll('`', '');
        const found = known.get(document)?.some((h) => h === wanted || h.startsWith(`${wanted} (`));
        if (found !== true) {
          dead.push(`${path}: ${document}, "${section}"`);
        }
      }
    }
    assert.ok(cited > 10, `only ${cited} citations found: the scan is broken`);
    assert.deepEqual(dead, [], 'citations of sections that do not exist');
  });
});
