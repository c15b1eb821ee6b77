/**
 * The simple commands of a POSIX sh script that start with `prefix` (e.g. `['docker', 'run']`),
 * as argv arrays: `\`-newline continuations joined, comments dropped, 'single' and "double"
 * quotes removed, `$VAR`, `${VAR}` and `${VAR:-default}` expanded from `vars` (unset → default
 * or empty), commands split at `;`, `&&`, `||` and `|`, redirections (`>/dev/null`, `2>&1`)
 * dropped. Command substitution, backquotes and globbing in those commands throw: the examples'
 * commands stay within what this reads.
 */
export function shellCommands(
  script: string,
  prefix: readonly string[],
  vars: Readonly<Record<string, string>> = {},
): string[][] {
  const commands: string[][] = [];
  for (const line of script.replaceAll('\\\n', ' ').split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    if (!prefix.every((word, i) => trimmed.split(/\s+/)[i] === word)) continue;
    commands.push(
      ...splitWords(trimmed, vars).filter((words) => prefix.every((w, i) => words[i] === w)),
    );
  }
  return commands;
}

const SEPARATORS = new Set([';', '&&', '||', '|']);

function splitWords(line: string, vars: Readonly<Record<string, string>>): string[][] {
  const commands: string[][] = [[]];
  let word: string | undefined;
  let quote: string | undefined;
  const finish = () => {
    if (word === undefined) return;
    if (SEPARATORS.has(word)) commands.push([]);
    else if (!/^\d*[<>]/.test(word)) commands.at(-1)?.push(word);
    word = undefined;
  };
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i]!;
    if (c === '`' || (c === '$' && line[i + 1] === '(')) {
      throw new Error(`command substitution is not supported: ${line}`);
    }
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (c === '$' && /[A-Za-z_{]/.test(line[i + 1] ?? '')) {
      const [value, end] = expand(line, i, vars);
      word = (word ?? '') + value;
      i = end;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && /[$`"\\]/.test(line[i + 1] ?? '')) word += line[++i]!;
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === '\\') {
      word = (word ?? '') + (line[++i] ?? '');
    } else if (/\s/.test(c)) {
      finish();
    } else if (c === '#' && word === undefined) {
      break;
    } else if (/[*?[\]]/.test(c)) {
      throw new Error(`globbing is not supported: ${line}`);
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote !== undefined) throw new Error(`unterminated quote: ${line}`);
  finish();
  return commands.filter((words) => words.length > 0);
}

/** `$VAR`, `${VAR}` or `${VAR:-default}` starting at `start`: the value, and the index of its last character. */
function expand(
  line: string,
  start: number,
  vars: Readonly<Record<string, string>>,
): [string, number] {
  if (line[start + 1] !== '{') {
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(line.slice(start + 1))![0];
    return [vars[name] ?? '', start + name.length];
  }
  const end = line.indexOf('}', start);
  if (end === -1) throw new Error(`unterminated \${: ${line}`);
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/.exec(line.slice(start + 2, end));
  if (match === null) throw new Error(`unsupported expansion ${line.slice(start, end + 1)}`);
  const value = vars[match[1]!];
  return [value === undefined || value === '' ? (match[2] ?? '') : value, end];
}
