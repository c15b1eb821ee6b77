/**
 * Stands in for `string-width` in the bundled CLI (scripts/bundle.ts). yargs and cliui measure
 * text only to lay out `--help`, and linkfwd's help is plain ASCII; the real module builds an
 * `Intl.Segmenter` and Unicode-property regular expressions when it loads, about 15 ms of every
 * start. Counts code points; East Asian wide characters and emoji would be under-counted.
 */
import stripAnsi from 'strip-ansi';

export default function stringWidth(text: string): number {
  let width = 0;
  for (const char of stripAnsi(text)) {
    const code = char.codePointAt(0) ?? 0;
    // Control characters and combining marks take no column.
    if (code < 0x20 || (code >= 0x7f && code < 0xa0) || (code >= 0x300 && code < 0x370)) continue;
    width += 1;
  }
  return width;
}
