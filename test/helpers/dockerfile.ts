/** One instruction of a Dockerfile: `COPY --from=build /a /b` → `{ keyword: 'COPY', args: '--from=build /a /b' }`. */
export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  /** `FROM <base> AS <name>`, with global `ARG` defaults substituted in `base`. */
  base: string;
  name: string | undefined;
  instructions: Instruction[];
}

/**
 * The stages of a Dockerfile: continuation lines joined, comments and blank lines dropped,
 * `${ARG}` in `FROM` replaced by the global `ARG` defaults. Enough to check the structure of the
 * project's own Dockerfiles, not a general parser.
 */
export function parseDockerfile(text: string): Stage[] {
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const start = i;
    let logical = lines[i]!.trim();
    if (logical === '' || logical.startsWith('#')) continue;
    while (logical.endsWith('\\') && i + 1 < lines.length) {
      i += 1;
      const next = lines[i]!.trim();
      logical = `${logical.slice(0, -1).trimEnd()} ${next.startsWith('#') ? '' : next}`.trimEnd();
    }
    const space = logical.search(/\s/);
    const keyword = (space === -1 ? logical : logical.slice(0, space)).toUpperCase();
    const rest = space === -1 ? '' : logical.slice(space + 1).trim();
    if (keyword === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (match === null) throw new Error(`line ${start + 1}: cannot read FROM ${rest}`);
      const base = match[1]!.replace(/\$\{(\w+)\}/g, (_, name: string) => args[name] ?? '');
      stages.push({ base, name: match[2], instructions: [] });
    } else if (stages.length === 0) {
      if (keyword !== 'ARG') throw new Error(`line ${start + 1}: ${keyword} before the first FROM`);
      const [name = '', value = ''] = rest.split('=');
      args[name] = value;
    } else {
      stages.at(-1)!.instructions.push({ keyword, args: rest, line: start + 1 });
    }
  }
  return stages;
}

/** The instructions of `stage` with `keyword`. */
export function instructions(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword);
}

/** `COPY [--from=X] [--chown=...] src... dest` → its parts. */
export function parseCopy(instruction: Instruction): {
  from: string | undefined;
  sources: string[];
  destination: string;
} {
  const words = instruction.args.split(/\s+/);
  const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
  const paths = words.filter((word) => !word.startsWith('--'));
  const destination = paths.pop();
  if (destination === undefined || paths.length === 0)
    throw new Error(`line ${instruction.line}: cannot read COPY ${instruction.args}`);
  return { from, sources: paths, destination };
}
