/**
 * Finding the executables the tests and the bench run, without a shell: PATH, and PostgreSQL's
 * server binaries, which live outside PATH on Debian (`/usr/lib/postgresql/<major>/bin`).
 */
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` in PATH, then in `extraDirs`; undefined when there is none. */
export function which(name: string, extraDirs: readonly string[] = []): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const dir of [...dirs, ...extraDirs]) {
    const path = join(dir, name);
    if (executable(path)) return path;
  }
  return undefined;
}

/** The newest `/usr/lib/postgresql/<major>/bin` with `initdb`, else the directory of `initdb` on PATH. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((name) => /^\d+$/.test(name))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const major of majors) {
    if (existsSync(join(root, major, 'bin', 'initdb'))) return join(root, major, 'bin');
  }
  const initdb = which('initdb');
  return initdb === undefined ? undefined : dirname(initdb);
}
