import { readFileSync } from 'node:fs';

/** Directory of the environment fixtures. */
export const ENV_FIXTURES = new URL('../fixtures/env/', import.meta.url);

/**
 * Reads a `KEY=VALUE` file (one variable per line, `#` comments, the value is everything
 * after the first `=`, no quoting) as an environment record.
 */
export function readEnvFile(name: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(new URL(name, ENV_FIXTURES), 'utf8').split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}
