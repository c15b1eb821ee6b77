/**
 * Reads the block-style YAML of examples/ (Compose, Kubernetes) without a YAML dependency:
 * `---` documents, `#` comments, nested mappings, `- ` sequences (of scalars or mappings),
 * plain, 'single' and "double" quoted scalars, and flow sequences written as JSON
 * (`["a", "b"]`). Every scalar is a string. Anything else (anchors, tags, block scalars, flow
 * mappings, tabs) throws with the line number, so a misread cannot pass silently.
 */
export type Yaml = string | null | Yaml[] | { [key: string]: Yaml };

interface Line {
  indent: number;
  text: string;
  number: number;
}

export function parseYamlDocuments(source: string): Yaml[] {
  const documents: Line[][] = [[]];
  source.split('\n').forEach((raw, index) => {
    const number = index + 1;
    if (raw.includes('\t')) throw new Error(`line ${number}: tabs are not supported`);
    const text = stripComment(raw, number).trimEnd();
    if (text.trim() === '') return;
    if (text === '---') {
      documents.push([]);
      return;
    }
    documents
      .at(-1)
      ?.push({ indent: text.length - text.trimStart().length, text: text.trimStart(), number });
  });
  return documents
    .filter((lines) => lines.length > 0)
    .map((lines) => {
      const [value, next] = parseNode(lines, 0, lines[0]!.indent);
      if (next < lines.length)
        throw new Error(`line ${lines[next]!.number}: unexpected indentation`);
      return value;
    });
}

/** The value at `path` (mapping keys and sequence indexes), or throws naming the missing step. */
export function yamlAt(value: Yaml, ...path: (string | number)[]): Yaml {
  let current = value;
  for (const step of path) {
    const next =
      typeof step === 'number'
        ? Array.isArray(current)
          ? current[step]
          : undefined
        : current !== null && typeof current === 'object' && !Array.isArray(current)
          ? current[step]
          : undefined;
    if (next === undefined)
      throw new Error(`no ${JSON.stringify(step)} in ${JSON.stringify(current)}`);
    current = next;
  }
  return current;
}

function parseNode(lines: Line[], start: number, indent: number): [Yaml, number] {
  const line = lines[start]!;
  if (line.indent !== indent) throw new Error(`line ${line.number}: unexpected indentation`);
  return isSequenceItem(line.text)
    ? parseSequence(lines, start, indent)
    : parseMapping(lines, start, indent);
}

function parseSequence(lines: Line[], start: number, indent: number): [Yaml[], number] {
  const items: Yaml[] = [];
  let i = start;
  while (i < lines.length && lines[i]!.indent === indent && isSequenceItem(lines[i]!.text)) {
    const line = lines[i]!;
    const rest = line.text.slice(1).trimStart();
    if (rest === '') {
      const child = lines[i + 1];
      if (child === undefined || child.indent <= indent) {
        items.push(null);
        i += 1;
      } else {
        const [value, next] = parseNode(lines, i + 1, child.indent);
        items.push(value);
        i = next;
      }
    } else if (MAPPING_ENTRY.test(rest)) {
      // `- key: value` opens a mapping whose keys line up with `key`.
      const itemIndent = indent + (line.text.length - rest.length);
      const copy = [...lines];
      copy[i] = { indent: itemIndent, text: rest, number: line.number };
      const [value, next] = parseMapping(copy, i, itemIndent);
      items.push(value);
      i = next;
    } else {
      items.push(parseScalar(rest, line.number));
      i += 1;
    }
  }
  return [items, i];
}

const MAPPING_ENTRY = /^([A-Za-z0-9_./-]+|"[^"]*"):(?:\s+(.*))?$/;

function parseMapping(
  lines: Line[],
  start: number,
  indent: number,
): [{ [key: string]: Yaml }, number] {
  const mapping: { [key: string]: Yaml } = {};
  let i = start;
  while (i < lines.length && lines[i]!.indent === indent) {
    const line = lines[i]!;
    const match = MAPPING_ENTRY.exec(line.text);
    if (match === null)
      throw new Error(
        `line ${line.number}: expected "key: value", got ${JSON.stringify(line.text)}`,
      );
    const key = match[1]!.startsWith('"') ? (JSON.parse(match[1]!) as string) : match[1]!;
    if (key in mapping) throw new Error(`line ${line.number}: duplicate key ${key}`);
    const rest = match[2];
    i += 1;
    if (rest !== undefined && rest !== '') {
      mapping[key] = parseScalar(rest, line.number);
      continue;
    }
    const child = lines[i];
    if (child !== undefined && child.indent > indent) {
      [mapping[key], i] = parseNode(lines, i, child.indent);
    } else if (child !== undefined && child.indent === indent && isSequenceItem(child.text)) {
      // A sequence may sit at its key's own indentation.
      [mapping[key], i] = parseSequence(lines, i, indent);
    } else {
      mapping[key] = null;
    }
  }
  return [mapping, i];
}

function parseScalar(text: string, number: number): Yaml {
  if (text.startsWith('"')) return JSON.parse(text) as string;
  if (text.startsWith("'")) {
    if (!text.endsWith("'") || text.length < 2)
      throw new Error(`line ${number}: unterminated quote`);
    return text.slice(1, -1).replaceAll("''", "'");
  }
  if (text.startsWith('[')) {
    const list = JSON.parse(text) as unknown;
    if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) {
      throw new Error(`line ${number}: flow sequences must be JSON lists of strings`);
    }
    return list as string[];
  }
  if (/^[{&*!|>%@`]/.test(text))
    throw new Error(`line ${number}: unsupported YAML: ${JSON.stringify(text)}`);
  return text;
}

function isSequenceItem(text: string): boolean {
  return text === '-' || text.startsWith('- ');
}

/** Drops a `#` comment: at the start of the line, or after a space outside a quoted scalar. */
function stripComment(line: string, number: number): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (quote !== undefined) {
      if (c === '\\' && quote === '"') i += 1;
      else if (c === quote) quote = undefined;
    } else if ((c === '"' || c === "'") && (i === 0 || /[\s[,:]/.test(line[i - 1]!))) {
      quote = c;
    } else if (c === '#' && (i === 0 || line[i - 1] === ' ')) {
      return line.slice(0, i);
    }
  }
  if (quote !== undefined) throw new Error(`line ${number}: unterminated quote`);
  return line;
}
