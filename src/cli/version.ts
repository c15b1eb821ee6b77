import { readFileSync } from 'node:fs';

/** Set by the single-executable build, which has no package.json beside it. */
declare const __LINKFWD_VERSION__: string | undefined;

/** linkfwd's version, from the build or from package.json. */
export function version(): string {
  if (typeof __LINKFWD_VERSION__ === 'string') return __LINKFWD_VERSION__;
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}
